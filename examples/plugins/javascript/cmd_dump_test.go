package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/swelego/swelego/sdk"
)

func TestDumpCommand(t *testing.T) {
	if os.Getenv("DUMP") == "" {
		t.Skip()
	}
	c, _ := Language{}.TestCommand(context.Background(), nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade})
	fmt.Print(c.Command)
}
