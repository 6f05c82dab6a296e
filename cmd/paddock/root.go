package main

import (
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "paddock",
		Short:         "Run untrusted code for AI agents in isolated sandboxes",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	addRemoteFlags(root)
	root.AddCommand(newGuestCmd(), newRunCmd(), newServeCmd(), newConfigCmd(),
		newSandboxCmd(), newExecCmd(), newCpCmd(), newLogsCmd(), newImageCmd(), newTemplateCmd(),
		newUserCmd(), newKeyCmd(), newQueryCmd(), newRunsCmd())
	return root
}
