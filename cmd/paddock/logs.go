package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newLogsCmd() *cobra.Command {
	return &cobra.Command{
		Use: "logs NAME", Short: "Show a sandbox's audit log", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			evs, err := newClient().Logs(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, evs)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tEVENT\tACTOR\tDETAILS")
			for _, ev := range evs {
				d, _ := json.Marshal(ev.Details)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ev.Time.Local().Format(time.DateTime), ev.Event, ev.Actor, d)
			}
			return tw.Flush()
		},
	}
}
