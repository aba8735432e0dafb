package envimage

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/swelego/swelego/core/sandbox"
)

// toolEnv is the environment of the host tools the build runs.
var toolEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8",
	"DEBIAN_FRONTEND=noninteractive",
}

// run runs a host command, its output going to log.
func run(ctx context.Context, log io.Writer, name string, args ...string) error {
	fmt.Fprintf(log, "+ %s %s\n", name, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = toolEnv
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// debootstrap installs a minbase Debian with pkgs into dir. Downloaded
// packages are kept in store/cache/debootstrap for the next build; builds
// sharing that cache take turns.
func debootstrap(ctx context.Context, store, dir, release, mirror string, pkgs []string, log io.Writer) error {
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return fmt.Errorf("debootstrap is not installed (apt-get install debootstrap): %w", err)
	}
	cache := filepath.Join(store, "cache", "debootstrap")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	unlock, err := lock(ctx, cache+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	return run(ctx, log, "debootstrap", "--variant=minbase", "--cache-dir="+cache,
		"--include="+strings.Join(pkgs, ","), release, dir, mirror)
}

// installBackports installs pkgs from the release's backports inside dir.
func installBackports(ctx context.Context, dir, release, mirror string, pkgs []string, log io.Writer) error {
	list := fmt.Sprintf("deb %s %s-backports main\n", mirror, release)
	if err := os.WriteFile(filepath.Join(dir, "etc/apt/sources.list.d/backports.list"), []byte(list), 0o644); err != nil {
		return err
	}
	if data, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "etc/resolv.conf"), data, 0o644)
	}
	steps := [][]string{
		{"apt-get", "update", "-q"},
		append([]string{"apt-get", "install", "-y", "-q", "--no-install-recommends", "-t", release + "-backports"}, pkgs...),
		{"apt-get", "clean"},
	}
	for _, s := range steps {
		if err := run(ctx, log, "chroot", append([]string{dir}, s...)...); err != nil {
			return err
		}
	}
	return nil
}

// gitconfig lets git work on a repository whatever its owner, and commit.
const gitconfig = `[safe]
	directory = *
[user]
	name = swelego
	email = swelego@localhost
[init]
	defaultBranch = main
[advice]
	detachedHead = false
`

// customise adds the sandbox user, its home, /testbed, the system git
// config and the environment file to a fresh root file system.
func customise(dir string, env []string) error {
	uid, gid := strconv.Itoa(sandbox.UID), strconv.Itoa(sandbox.GID)
	for file, line := range map[string]string{
		"etc/passwd": "swelego:x:" + uid + ":" + gid + ":swelego:/home/swelego:/bin/bash",
		"etc/group":  "swelego:x:" + gid + ":",
		"etc/shadow": "swelego:*:19000:0:99999:7:::",
	} {
		if err := appendLine(filepath.Join(dir, file), "swelego:", line); err != nil {
			return err
		}
	}
	for _, d := range []string{"home/swelego", sandbox.RepoDir} {
		p := filepath.Join(dir, d)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		if err := os.Chown(p, sandbox.UID, sandbox.GID); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/gitconfig"), []byte(gitconfig), 0o644); err != nil {
		return err
	}
	// Mount points for the host's name service, when setup has network.
	for _, f := range []string{"etc/resolv.conf", "etc/hosts"} {
		p := filepath.Join(dir, f)
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				return err
			}
		}
	}
	for _, glob := range []string{"var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*"} {
		files, _ := filepath.Glob(filepath.Join(dir, glob))
		for _, f := range files {
			_ = os.Remove(f)
		}
	}
	return writeEnv(dir, env)
}

// appendLine appends line to file unless a line starting with prefix is
// there; a missing file is left missing.
func appendLine(file, prefix, line string) error {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, prefix) {
			return nil
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	info, err := os.Stat(file)
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(data, line+"\n"...), info.Mode().Perm())
}

// readEnv reads the image environment of the root file system dir.
func readEnv(dir string) []string {
	data, err := os.ReadFile(filepath.Join(dir, sandbox.ImageEnvFile))
	if err != nil {
		return slices.Clone(baseEnv)
	}
	var env []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") && strings.Contains(l, "=") {
			env = append(env, l)
		}
	}
	return env
}

// writeEnv writes env (a later KEY wins) as the image environment of dir.
func writeEnv(dir string, env []string) error {
	var b strings.Builder
	for _, kv := range dedupeEnv(env) {
		b.WriteString(kv + "\n")
	}
	p := filepath.Join(dir, sandbox.ImageEnvFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(b.String()), 0o644)
}

func dedupeEnv(env []string) []string {
	idx := map[string]int{}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// setup runs one setup command over the root file system dir (writable),
// with the network of the host: as root in / (asRoot) or as the sandbox
// user in /testbed.
func setup(ctx context.Context, dir, command string, asRoot bool, log io.Writer) error {
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		return fmt.Errorf("setup needs bwrap (apt-get install bubblewrap): %w", err)
	}
	var argv []string
	common := []string{"--bind", dir, "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
		"--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf", "--die-with-parent", "--new-session"}
	// Setup uses the host's network, so it trusts what the host trusts
	// (a TLS-intercepting proxy's authority, say).
	const caBundle = "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(filepath.Join(dir, caBundle)); err == nil {
		common = append(common, "--ro-bind-try", caBundle, caBundle)
	}
	env := readEnv(dir)
	if asRoot {
		argv = append([]string{bwrap}, common...)
		argv = append(argv, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--cap-add", "ALL", "--chdir", "/")
		env = append(env, "HOME=/root", "DEBIAN_FRONTEND=noninteractive")
	} else {
		argv = []string{"setpriv", "--reuid=" + strconv.Itoa(sandbox.UID), "--regid=" + strconv.Itoa(sandbox.GID),
			"--clear-groups", "--", bwrap}
		argv = append(argv, common...)
		argv = append(argv, "--unshare-all", "--unshare-user", "--share-net",
			"--uid", strconv.Itoa(sandbox.UID), "--gid", strconv.Itoa(sandbox.GID), "--chdir", sandbox.RepoDir)
	}
	argv = append(argv, "--", "/bin/bash", "-c", command)
	who := "user"
	if asRoot {
		who = "root"
	}
	fmt.Fprintf(log, "+ [setup as %s] %s\n", who, command)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = dedupeEnv(env)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = groupAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("setup command %q: %w", command, err)
	}
	return nil
}

// emptyDir removes everything in dir, keeping dir.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// cleanup removes a half-built root file system, detaching first whatever
// a killed debootstrap left mounted in it.
func cleanup(dir string) {
	mounts := mountsUnder(dir)
	for i := len(mounts) - 1; i >= 0; i-- {
		detach(mounts[i])
	}
	if len(mountsUnder(dir)) > 0 {
		// Never delete through a mount that would not go.
		return
	}
	_ = os.RemoveAll(dir)
}

// mountsUnder lists the mount points in dir, sorted.
func mountsUnder(dir string) []string {
	var mounts []string
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			mounts = append(mounts, fields[4])
		}
	}
	slices.Sort(mounts)
	return mounts
}

// tail is the last n lines of file.
func tail(file string, n int) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// hashFiles hashes the tree under dir (paths, modes, contents, link
// targets), .git left out.
func hashFiles(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00", filepath.ToSlash(rel), info.Mode())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s\x00", t)
		case info.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			fh := sha256.New()
			_, err = io.Copy(fh, f)
			f.Close()
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%x\x00", fh.Sum(nil))
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func isRoot() bool { return os.Geteuid() == 0 }

func flock(f *os.File, wait bool) error {
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	return syscall.Flock(int(f.Fd()), how)
}

func funlock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
