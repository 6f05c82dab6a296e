package main

import (
	"errors"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func newCpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cp SRC DST",
		Short: "Copy a file between this machine and a sandbox (NAME:PATH on the sandbox side)",
		Example: `  paddock cp script.py box:/workspace/script.py
  paddock cp box:/workspace/out.csv ./out.csv`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcBox, srcPath, srcRemote := splitRemote(args[0])
			dstBox, dstPath, dstRemote := splitRemote(args[1])
			c := newClient()
			switch {
			case srcRemote && !dstRemote:
				data, err := c.ReadFile(cmd.Context(), srcBox, srcPath)
				if err != nil {
					return err
				}
				if dstPath == "-" {
					_, err = os.Stdout.Write(data)
					return err
				}
				return os.WriteFile(dstPath, data, 0o644)
			case !srcRemote && dstRemote:
				var data []byte
				var err error
				if srcPath == "-" {
					data, err = readAllStdin()
				} else {
					data, err = os.ReadFile(srcPath)
				}
				if err != nil {
					return err
				}
				return c.WriteFile(cmd.Context(), dstBox, dstPath, data)
			}
			return errors.New("exactly one of SRC and DST must be NAME:PATH in a sandbox")
		},
	}
}

// splitRemote splits "name:/path"; local paths (including ./x:y) are not remote.
func splitRemote(arg string) (name, path string, remote bool) {
	name, path, ok := strings.Cut(arg, ":")
	if !ok || name == "" || strings.ContainsAny(name, "/.") {
		return "", arg, false
	}
	return name, path, true
}

func readAllStdin() ([]byte, error) { return io.ReadAll(os.Stdin) }
