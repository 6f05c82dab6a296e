package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paddock/paddock/client"
)

func newCpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cp SRC DST",
		Short: "Copy a file between this machine and a sandbox (NAME:PATH on the sandbox side)",
		Long: `Copy a file between this machine and a sandbox (NAME:PATH on the sandbox side). The bytes
stream both ways, whatever the file's size. - is stdin or stdout; a local DST that is a
directory receives the file under its own name.`,
		Example: `  paddock cp script.py box:/workspace/script.py
  paddock cp box:/workspace/out.csv .
  tar c src | paddock cp - box:/tmp/src.tar`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcBox, srcPath, srcRemote := splitRemote(args[0])
			dstBox, dstPath, dstRemote := splitRemote(args[1])
			c := newClient()
			switch {
			case srcRemote && !dstRemote:
				return download(cmd.Context(), c, srcBox, srcPath, dstPath)
			case !srcRemote && dstRemote:
				return upload(cmd.Context(), c, srcPath, dstBox, dstPath)
			}
			return errors.New("exactly one of SRC and DST must be NAME:PATH in a sandbox")
		},
	}
}

// download streams a sandbox file to dst ("-" = stdout).
func download(ctx context.Context, c *client.Client, box, src, dst string) error {
	rc, _, err := c.Download(ctx, box, src)
	if err != nil {
		return err
	}
	defer rc.Close()
	if dst == "-" {
		_, err = io.Copy(os.Stdout, rc)
		return err
	}
	if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
		dst = filepath.Join(dst, path.Base(src))
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("copy %s:%s to %s (cut short): %w", box, src, dst, err)
	}
	return f.Close()
}

// upload streams src ("-" = stdin) into a sandbox file.
func upload(ctx context.Context, c *client.Client, src, box, dst string) error {
	if src == "-" {
		return c.Upload(ctx, box, dst, os.Stdin, -1)
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory: cp copies one file (tar it: tar c %s | paddock cp - %s:%s.tar)", src, src, box, dst)
	}
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return c.Upload(ctx, box, dst, f, size)
}

// splitRemote splits "name:/path"; local paths (including ./x:y) are not remote.
func splitRemote(arg string) (name, path string, remote bool) {
	name, path, ok := strings.Cut(arg, ":")
	if !ok || name == "" || strings.ContainsAny(name, "/.") {
		return "", arg, false
	}
	return name, path, true
}
