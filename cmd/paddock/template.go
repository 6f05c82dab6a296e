package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/paddock/paddock/client"
)

func newTemplateCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "template", Aliases: []string{"templates"}, Short: "Manage the sandbox templates of a Paddock server"}
	cmd.AddCommand(&cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List templates", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ts, err := newClient().ListTemplates(cmd.Context())
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, ts)
			}
			return printTemplates(cmd.OutOrStdout(), ts)
		},
	}, &cobra.Command{
		Use: "show NAME", Short: "Show one template (JSON)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := newClient().GetTemplate(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd, t)
		},
	}, &cobra.Command{
		Use:   "apply FILE",
		Short: "Replace the server's templates file with FILE (a JSON array of templates; - reads stdin)",
		Long: "Replace the server's templates file with FILE, a JSON array of templates in Agent-Sandbox's format\n" +
			"plus Paddock's fields (see docs/templates.md). The list is validated as a whole: nothing changes\n" +
			"unless every template is valid. Built-in templates the list leaves out stay.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ts, err := readTemplates(cmd.InOrStdin(), args[0])
			if err != nil {
				return err
			}
			now, err := newClient().PutTemplates(cmd.Context(), ts)
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, now)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "applied %d templates from %s\n", len(ts), args[0])
			return printTemplates(cmd.OutOrStdout(), now)
		},
	})
	return cmd
}

// readTemplates reads a templates file strictly, so that a misspelt field is reported here
// rather than dropped.
func readTemplates(stdin io.Reader, path string) ([]client.Template, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ts []client.Template
	if err := dec.Decode(&ts); err != nil {
		return nil, fmt.Errorf("%s: not a JSON array of templates: %w", path, err)
	}
	return ts, nil
}

func printTemplates(w io.Writer, ts []client.Template) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tIMAGE\tPROFILE\tPORT\tPOOL\tDESCRIPTION")
	for _, t := range ts {
		profile, port, pool := t.Profile, "-", "0"
		if profile == "" {
			profile = "moderate"
		}
		if t.Port != 0 {
			port = strconv.Itoa(t.Port)
		}
		if t.Pool != nil {
			pool = strconv.Itoa(t.Pool.Size)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Source, t.Image, profile, port, pool, t.Description)
	}
	return tw.Flush()
}
