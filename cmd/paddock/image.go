package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newImageCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage the images of a Paddock server"}
	cmd.AddCommand(&cobra.Command{
		Use: "ls", Short: "List images", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			imgs, err := newClient().ListImages(cmd.Context())
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, imgs)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REF\tLAYERS\tDIGEST")
			for _, i := range imgs {
				fmt.Fprintf(tw, "%s\t%d\t%s\n", i.Ref, i.Layers, i.Digest)
			}
			return tw.Flush()
		},
	}, &cobra.Command{
		Use: "pull REF", Short: "Pull an OCI image", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			img, err := newClient().PullImage(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d layers\n", img.Ref, img.Layers)
			return nil
		},
	}, &cobra.Command{
		Use: "rm REF", Short: "Remove an image (layers a sandbox still uses are kept)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := newClient().RemoveImage(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), args[0])
			return nil
		},
	})
	return cmd
}
