package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/paddock/paddock/client"
)

func newSandboxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sandbox", Aliases: []string{"sb"}, Short: "Manage sandboxes on a Paddock server"}
	cmd.AddCommand(newSandboxCreateCmd(), newSandboxListCmd(), newSandboxInspectCmd(), newSandboxRemoveCmd(),
		newSandboxNetworkCmd(),
		newSandboxStateCmd("stop", "Stop a sandbox, keeping its filesystem"),
		newSandboxStateCmd("start", "Start a stopped sandbox"))
	return cmd
}

func newSandboxCreateCmd() *cobra.Command {
	var req client.CreateRequest
	var env []string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a running sandbox",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name = args[0]
			var err error
			if req.Env, err = parseEnv(env); err != nil {
				return err
			}
			sb, err := newClient().CreateSandbox(cmd.Context(), req)
			if err != nil {
				return err
			}
			return printSandboxes(cmd, *sb)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Image, "image", "", "image (default base)")
	f.StringVar(&req.Template, "template", "", "template whose defaults the sandbox takes (flags win)")
	f.StringVar(&req.Profile, "profile", "", "security profile: permissive, moderate (default) or restrictive")
	f.Int64Var(&req.MemoryMB, "memory", 0, "memory limit in MiB")
	f.Float64Var(&req.VCPUs, "vcpus", 0, "CPU limit in cores")
	f.Int64Var(&req.Pids, "pids", 0, "process limit")
	f.Int64Var(&req.DiskMB, "disk", 0, "size of the writable layer in MiB; /tmp's with a read-only root")
	f.StringArrayVarP(&env, "env", "e", nil, "environment variable K=V (repeatable)")
	f.StringVarP(&req.Workdir, "workdir", "w", "", "default working directory")
	f.StringVarP(&req.User, "user", "u", "", "default user")
	f.StringVar(&req.TTL, "ttl", "", "lifetime, e.g. 30m (default: none)")
	f.StringVar(&req.OnExpire, "on-expire", "", "what the TTL does: delete (default), stop or pause")
	f.StringVar(&req.IdleTimeout, "idle-timeout", "", "pause after this long without use, e.g. 10m (default: never)")
	f.BoolVar(&req.AutoResume, "auto-resume", false, "resume a paused sandbox on the first request to its ports")
	f.StringVar(&req.Network, "network", "", "none (loopback only) or egress (default: the profile's)")
	f.StringSliceVar(&req.AllowOut, "allow-out", nil, "egress allowed to CIDR, IP or domain (*.example.com), comma-separated or repeated")
	f.StringSliceVar(&req.DenyOut, "deny-out", nil, "egress denied to CIDR, IP or domain (*.example.com), comma-separated or repeated")
	return cmd
}

func newSandboxNetworkCmd() *cobra.Command {
	var p client.NetworkPolicy
	var clear bool
	cmd := &cobra.Command{
		Use:   "network NAME [--allow-out X]... [--deny-out X]... [--clear]",
		Short: "Show a sandbox's egress policy, or replace it",
		Long: `Without flags, show the network mode and egress policy of a sandbox. With --allow-out and
--deny-out, replace the policy with those entries; --clear replaces it with none (public
addresses allowed, private ones not). Entries are CIDRs, IP addresses, domain names and *.
wildcards; the most specific rule wins and deny wins ties. A running sandbox gets the new
policy at once (open connections are kept), a stopped one at its next start.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			given := cmd.Flags().Changed("allow-out") || cmd.Flags().Changed("deny-out")
			if clear && given {
				return errors.New("--clear removes every entry: give it alone, or give --allow-out/--deny-out without it")
			}
			c := newClient()
			var sb *client.Sandbox
			var err error
			if clear || given {
				sb, err = c.SetNetwork(cmd.Context(), args[0], p)
			} else {
				sb, err = c.GetSandbox(cmd.Context(), args[0])
			}
			if err != nil {
				return err
			}
			return printNetwork(cmd, *sb)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&p.AllowOut, "allow-out", nil, "egress allowed to CIDR, IP or domain, comma-separated or repeated")
	f.StringSliceVar(&p.DenyOut, "deny-out", nil, "egress denied to CIDR, IP or domain, comma-separated or repeated")
	f.BoolVar(&clear, "clear", false, "remove every entry: public addresses allowed, private ones not")
	return cmd
}

// printNetwork shows a sandbox's network mode and egress policy.
func printNetwork(cmd *cobra.Command, sb client.Sandbox) error {
	if remote.json {
		return printJSON(cmd, map[string]any{"name": sb.Name, "network": sb.Network,
			"allow_out": nonNil(sb.AllowOut), "deny_out": nonNil(sb.DenyOut)})
	}
	list := func(v []string) string {
		if len(v) == 0 {
			return "-"
		}
		return strings.Join(v, ", ")
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "network:\t%s\n", sb.Network)
	fmt.Fprintf(tw, "allow-out:\t%s\n", list(sb.AllowOut))
	fmt.Fprintf(tw, "deny-out:\t%s\n", list(sb.DenyOut))
	return tw.Flush()
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func newSandboxListCmd() *cobra.Command {
	return &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List sandboxes", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sbs, err := newClient().ListSandboxes(cmd.Context())
			if err != nil {
				return err
			}
			return printSandboxes(cmd, sbs...)
		},
	}
}

func newSandboxInspectCmd() *cobra.Command {
	return &cobra.Command{
		Use: "inspect NAME", Short: "Show everything about a sandbox (JSON)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sb, err := newClient().GetSandbox(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd, sb)
		},
	}
}

func newSandboxRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use: "rm NAME...", Aliases: []string{"delete"}, Short: "Delete sandboxes", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := newClient()
			var failed error
			for _, name := range args {
				if err := c.DeleteSandbox(cmd.Context(), name); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "paddock: %s: %v\n", name, err)
					failed = &exitError{code: 1}
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), name)
			}
			return failed
		},
	}
}

func newSandboxStateCmd(verb, short string) *cobra.Command {
	return &cobra.Command{
		Use: verb + " NAME", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := newClient()
			op := c.StopSandbox
			if verb == "start" {
				op = c.StartSandbox
			}
			sb, err := op(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printSandboxes(cmd, *sb)
		},
	}
}

// printSandboxes prints a table, or JSON with --json.
func printSandboxes(cmd *cobra.Command, sbs ...client.Sandbox) error {
	if remote.json {
		return printJSON(cmd, sbs)
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tIMAGE\tPROFILE\tCPUS\tMEMORY\tAGE\tEXPIRES")
	for _, sb := range sbs {
		mem, cpus, exp := "-", "-", "-"
		if sb.MemoryMB > 0 {
			mem = fmt.Sprintf("%dMiB", sb.MemoryMB)
		}
		if sb.VCPUs > 0 {
			cpus = fmt.Sprint(sb.VCPUs)
		}
		if sb.ExpiresAt != nil {
			exp = "in " + time.Until(*sb.ExpiresAt).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sb.Name, sb.Status, sb.Image, sb.Profile, cpus, mem,
			time.Since(sb.CreatedAt).Round(time.Second), exp)
	}
	return tw.Flush()
}
