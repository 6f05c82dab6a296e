package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newRunsCmd() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use: "runs", Short: "List your agent runs (Sandcaster's GET /runs), newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			runs, err := newClient().AgentRuns(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, runs)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTARTED\tSTATUS\tMODEL\tTURNS\tCOST\tDURATION\tPROMPT")
			for _, r := range runs {
				status := r.Status
				if r.Error != "" {
					status += ": " + oneLine(r.Error, 40)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t$%.4f\t%.1fs\t%s\n", r.ID, r.StartedAt.Local().Format(time.DateTime), status,
					r.Model, r.NumTurns, r.CostUSD, r.DurationSecs, oneLine(r.Prompt, 50))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVarP(&limit, "limit", "n", 0, "how many runs, 1 to 200 (default 20)")
	return cmd
}
