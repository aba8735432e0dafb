package sdk

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/swelego/swelego/sdk/internal/pb/pluginv1"
)

// oldPlugin is the base service of a plugin built before ValidateConfig
// was part of the protocol.
type oldPlugin struct {
	pb.UnimplementedPluginServiceServer
}

// TestValidateConfigOldPlugin checks that a plugin which does not know the
// call has no diagnostics instead of failing validation.
func TestValidateConfigOldPlugin(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	pb.RegisterPluginServiceServer(s, oldPlugin{})
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := newClient(conn, nil)
	diags, err := c.ValidateConfig(context.Background(), KindBugInjector, Config(`{"rules":["nope"]}`))
	if err != nil || diags != nil {
		t.Fatalf("ValidateConfig of an old plugin = %v, %v; want no diagnostics, no error", diags, err)
	}
	// the same plugin's other calls still fail as they did
	if _, err := c.ConfigSchema(context.Background(), KindBugInjector); err == nil {
		t.Fatal("ConfigSchema of a plugin that does not serve it succeeded")
	}
}
