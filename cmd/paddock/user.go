package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/paddock/paddock/client"
)

func newUserCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Aliases: []string{"users"}, Short: "Manage the users of a Paddock server (admins; see docs/accounts.md)"}
	var name, role string
	var withPassword bool
	add := &cobra.Command{
		Use: "add EMAIL", Short: "Add a user (--password reads their password from stdin or a prompt)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := client.CreateUserRequest{Email: args[0], Name: name, Role: role}
			if withPassword {
				p, err := readSecret(cmd, "password for "+args[0]+": ")
				if err != nil {
					return err
				}
				req.Password = p
			}
			u, err := newClient().CreateUser(cmd.Context(), req)
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, u)
			}
			return printUsers(cmd.OutOrStdout(), []client.User{*u})
		},
	}
	add.Flags().StringVar(&name, "name", "", "display name (default: the email's local part)")
	add.Flags().StringVar(&role, "role", "user", "admin or user")
	add.Flags().BoolVar(&withPassword, "password", false, "set a password (read from stdin, or prompted on a terminal)")
	cmd.AddCommand(add, &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List users", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			users, err := newClient().Users(cmd.Context())
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, users)
			}
			return printUsers(cmd.OutOrStdout(), users)
		},
	}, &cobra.Command{
		Use: "rm EMAIL", Aliases: []string{"remove"}, Short: "Remove a user and their keys", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := newClient().DeleteUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", args[0])
			return nil
		},
	}, &cobra.Command{
		Use:   "passwd [EMAIL]",
		Short: "Set a user's password (admins), or change your own without EMAIL",
		Long: "Set the password of the user EMAIL (admins), or change your own without EMAIL. Passwords are read\n" +
			"from a prompt on a terminal, otherwise from stdin: for your own, the current password (an empty\n" +
			"line when you have none) and then the new one, one a line.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := newClient()
			if len(args) == 1 {
				p, err := readSecret(cmd, "new password for "+args[0]+": ")
				if err != nil {
					return err
				}
				if _, err := c.UpdateUser(cmd.Context(), args[0], client.UpdateUserRequest{Password: &p}); err != nil {
					return err
				}
			} else {
				current, err := readSecret(cmd, "current password (empty if none): ")
				if err != nil {
					return err
				}
				p, err := readSecret(cmd, "new password: ")
				if err != nil {
					return err
				}
				if err := c.ChangePassword(cmd.Context(), client.PasswordRequest{CurrentPassword: current, Password: p}); err != nil {
					return err
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "password changed")
			return nil
		},
	})
	return cmd
}

// stdinLines reads stdin a line at a time across readSecret calls.
var stdinLines *bufio.Reader

// readSecret prompts without echo on a terminal, and otherwise reads one line of stdin.
func readSecret(cmd *cobra.Command, prompt string) (string, error) {
	if f, ok := cmd.InOrStdin().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(cmd.ErrOrStderr(), prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		return string(b), err
	}
	if stdinLines == nil {
		stdinLines = bufio.NewReader(cmd.InOrStdin())
	}
	line, err := stdinLines.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", fmt.Errorf("read %s from stdin: %w", strings.TrimSuffix(prompt, ": "), err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func printUsers(w io.Writer, users []client.User) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSTATUS\tPASSWORD\tID\tCREATED")
	for _, u := range users {
		status, pw := "active", "no"
		if u.Disabled {
			status = "disabled"
		}
		if u.HasPassword {
			pw = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, status, pw, u.ID, u.CreatedAt.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}
