package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/paddock/paddock/client"
)

func newKeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "key", Aliases: []string{"keys"}, Short: "Manage API keys: yours, or a user's with --user (admins)"}
	var user, name string
	var expires time.Duration
	cmd.PersistentFlags().StringVar(&user, "user", "", "the user whose keys these are (admins; default: yours)")
	create := &cobra.Command{
		Use: "create", Short: "Make an API key; it is printed once and cannot be shown again", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if expires < 0 {
				return fmt.Errorf("--expires %s: use a positive duration, or 0 for never", expires)
			}
			k, err := newClient().CreateKey(cmd.Context(), user, client.CreateKeyRequest{Name: name, ExpiresIn: expires.Seconds()})
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, k)
			}
			fmt.Fprintln(cmd.OutOrStdout(), k.Key)
			fmt.Fprintf(cmd.ErrOrStderr(), "key %s: keep it now, it cannot be shown again\n", k.ID)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "what the key is for")
	create.Flags().DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h (default: never expires)")
	cmd.AddCommand(create, &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List API keys (never the keys themselves)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keys, err := newClient().Keys(cmd.Context(), user)
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, keys)
			}
			return printKeys(cmd.OutOrStdout(), keys)
		},
	}, &cobra.Command{
		Use: "revoke ID", Aliases: []string{"rm"}, Short: "Revoke an API key; it stops working at once", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := newClient().RevokeKey(cmd.Context(), user, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
			return nil
		},
	})
	return cmd
}

func printKeys(w io.Writer, keys []client.APIKey) error {
	when := func(t *time.Time, none string) string {
		if t == nil {
			return none
		}
		return t.Local().Format("2006-01-02 15:04")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED\tLAST USED\tEXPIRES")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.CreatedAt.Local().Format("2006-01-02 15:04"),
			when(k.LastUsedAt, "never"), when(k.ExpiresAt, "never"))
	}
	return tw.Flush()
}
