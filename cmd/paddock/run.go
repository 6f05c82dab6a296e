package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/engine"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/image"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

type runFlags struct {
	spec    sandbox.Spec
	env     []string
	tty     bool
	timeout time.Duration
	config  string // settings file for the in-process engine
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] -- CMD [ARGS...]",
		Short: "Run one command in a fresh sandbox and exit with its exit code",
		Long: `Run one command in a fresh sandbox, streaming its output live and forwarding stdin.
The sandbox is created by an in-process engine and deleted afterwards; with --host (or
PADDOCK_HOST) it is created by that server instead. The exit code is the
command's own; 128+N when signal N killed it; 137 when the sandbox ran out of memory; 127 when
the command does not exist in the sandbox.

The in-process engine takes the engine's settings as 'paddock serve' does: from flags
(--data-dir, --runtime), PADDOCK_* environment variables (PADDOCK_REGISTRY_MIRRORS,
PADDOCK_REGISTRY_INSECURE, PADDOCK_EGRESS_DNS, ...) and the --config file; flags win over
the environment, which wins over the file.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if remote.host != "" || os.Getenv("PADDOCK_HOST") != "" {
				return runRemote(cmd.Context(), &f, args)
			}
			return runOneShot(cmd, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.spec.Image, "image", "base", "image to run")
	fl.StringVar(&f.spec.Profile, "profile", "moderate", "security profile: permissive, moderate or restrictive")
	fl.Int64Var(&f.spec.MemoryMB, "memory", 0, "memory limit in MiB (default: the profile's)")
	fl.Float64Var(&f.spec.VCPUs, "vcpus", 0, "CPU limit in cores, e.g. 0.5 (default: the profile's)")
	fl.Int64Var(&f.spec.Pids, "pids", 0, "process limit (default: the profile's)")
	fl.Int64Var(&f.spec.DiskMB, "disk", 0, "size of the writable layer in MiB; /tmp's with a read-only root (default: the profile's)")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "environment variable K=V (repeatable)")
	fl.StringVarP(&f.spec.Workdir, "workdir", "w", "", "working directory (default: the user's home)")
	fl.StringVarP(&f.spec.User, "user", "u", "", "user name or uid[:gid] (default: the profile's)")
	fl.BoolVarP(&f.tty, "tty", "t", false, "run the command on a pseudo-terminal")
	fl.DurationVar(&f.timeout, "timeout", 0, "kill the command after this long (0 = no limit)")
	fl.String("data-dir", "", "data directory (default /var/lib/paddock as root; env PADDOCK_DATA_DIR)")
	fl.String("runtime", "runc", "OCI runtime binary: runc, crun, runsc (env PADDOCK_RUNTIME)")
	fl.StringVar(&f.config, "config", os.Getenv("PADDOCK_CONFIG"), "JSON settings file, as for 'paddock serve' (env PADDOCK_CONFIG)")
	fl.StringVar((*string)(&f.spec.Network), "network", "", "none (loopback only) or egress (default: the profile's)")
	fl.StringSliceVar(&f.spec.Egress.AllowOut, "allow-out", nil, "egress allowed to CIDR, IP or domain (*.example.com), comma-separated or repeated")
	fl.StringSliceVar(&f.spec.Egress.DenyOut, "deny-out", nil, "egress denied to CIDR, IP or domain (*.example.com), comma-separated or repeated")
	return cmd
}

func runOneShot(cmd *cobra.Command, f *runFlags, args []string) error {
	env, err := parseEnv(f.env)
	if err != nil {
		return err
	}
	f.spec.Env = env
	settings := config.Default()
	if err := settings.Load(f.config, cmd.Flags()); err != nil {
		return err
	}
	if err := settings.Validate(); err != nil {
		return err
	}
	ecfg := engine.FromSettings(settings)
	ecfg.Ephemeral = true
	// The command outlives the first Ctrl-C (which is forwarded), so run on a context that
	// signals do not cancel; forwardSignals ends it.
	runCtx := context.WithoutCancel(cmd.Context())
	eng, err := engine.Open(runCtx, ecfg)
	if err != nil {
		return err
	}
	defer eng.Close(runCtx)
	bar := newPullBar() // shown only when the image has to be pulled
	sb, err := eng.Create(image.WithProgress(runCtx, func(p image.Progress) { bar.update(fromImage(p)) }), f.spec, "")
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(runCtx, 30*time.Second)
		defer cancel()
		if err := eng.Delete(cctx, sb.ID); err != nil {
			fmt.Fprintln(os.Stderr, "paddock: delete sandbox:", err)
		}
	}()
	code, err := runProcess(runCtx, eng.Manager, sb.ID, args, f)
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// runProcess streams one process and returns its shell-style exit code.
func runProcess(ctx context.Context, m *manager.Manager, id string, args []string, f *runFlags) (int, error) {
	cmd := manager.Command{Args: args, Stdin: true, Timeout: f.timeout}
	stdinFd := int(os.Stdin.Fd())
	if f.tty {
		cmd.TTY = &manager.TTYSize{Rows: 24, Cols: 80}
		if w, h, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			cmd.TTY = &manager.TTYSize{Rows: uint32(h), Cols: uint32(w)}
		}
		if term.IsTerminal(stdinFd) {
			old, err := term.MakeRaw(stdinFd)
			if err == nil {
				defer term.Restore(stdinFd, old)
			}
		}
	}
	p, err := m.StartProcess(ctx, id, cmd)
	var nf *manager.CommandNotFoundError
	if errors.As(err, &nf) {
		fmt.Fprintln(os.Stderr, "paddock:", err)
		return nf.Exit().Code, nil
	}
	if err != nil {
		return 0, err
	}
	stop := forwardSignals(ctx, p, f.tty)
	defer stop()
	go forwardStdin(ctx, p, f.tty)
	for {
		out, exit, err := p.Next()
		if err != nil {
			return 0, err
		}
		if exit != nil {
			if exit.Reason != "" {
				fmt.Fprintln(os.Stderr, "paddock:", exit.Reason)
			}
			return exit.Code, nil
		}
		w := io.Writer(os.Stdout)
		if out.Stream == "stderr" {
			w = os.Stderr
		}
		_, _ = w.Write(out.Data)
	}
}

// forwardStdin copies our stdin to the process and closes its stdin at EOF.
func forwardStdin(ctx context.Context, p *manager.Process, tty bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := os.Stdin.Read(buf)
		if n > 0 {
			if p.SendStdin(ctx, buf[:n], tty) != nil {
				return
			}
		}
		if err != nil {
			if !tty {
				_ = p.CloseStdin(ctx)
			}
			return
		}
	}
}

// forwardSignals sends SIGTERM to the process on the first SIGINT/SIGTERM/SIGHUP and SIGKILL
// on the next, and forwards terminal resizes.
func forwardSignals(ctx context.Context, p *manager.Process, tty bool) (stop func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		sent := 0
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				if s == syscall.SIGWINCH {
					if w, h, err := term.GetSize(int(os.Stdout.Fd())); err == nil && tty {
						_ = p.Resize(ctx, manager.TTYSize{Rows: uint32(h), Cols: uint32(w)})
					}
					continue
				}
				sig := syscall.SIGTERM
				if sent > 0 {
					sig = syscall.SIGKILL
				}
				sent++
				_ = p.Signal(ctx, sig)
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

func parseEnv(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	env := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, errdefs.InvalidArgument("--env %q: want KEY=VALUE", kv)
		}
		env[k] = v
	}
	return env, nil
}

// runRemote runs the command through a server's /run/stream.
func runRemote(ctx context.Context, f *runFlags, args []string) error {
	if f.tty {
		return errdefs.InvalidArgument("--tty is not available with --host yet; run locally for a terminal")
	}
	env, err := parseEnv(f.env)
	if err != nil {
		return err
	}
	req := client.RunRequest{Image: f.spec.Image, Profile: f.spec.Profile, VCPUs: f.spec.VCPUs,
		MemoryMB: f.spec.MemoryMB, Pids: f.spec.Pids, DiskMB: f.spec.DiskMB, Network: string(f.spec.Network),
		AllowOut: f.spec.Egress.AllowOut, DenyOut: f.spec.Egress.DenyOut,
		ExecRequest: client.ExecRequest{Command: args, Env: env, Cwd: f.spec.Workdir, User: f.spec.User,
			Timeout: f.timeout.Seconds()}}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		if len(b) > 0 {
			s := string(b)
			req.Stdin = &s
		}
	}
	bar := newPullBar()
	return streamToTerminal(ctx, func(fn func(client.Event) error) error {
		return newClient().RunStream(ctx, req, func(ev client.Event) error {
			if p, ok := ev.PullProgress(); ok {
				bar.update(p)
				return nil
			}
			return fn(ev)
		})
	})
}
