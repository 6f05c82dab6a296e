package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/paddock/paddock/internal/image"
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
		Use: "pull REF", Short: "Pull an OCI image, showing progress on stderr", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			img, err := newClient().PullImageStream(cmd.Context(), args[0], newPullBar().update)
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, img)
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
	}, newImageImportCmd(), &cobra.Command{
		Use: "prune", Short: "Remove layers no image references (never layers a sandbox uses)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := newClient().PruneImages(cmd.Context())
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d layers, freed %s\n", res.LayersRemoved, humanBytes(res.BytesFreed))
			return nil
		},
	})
	return cmd
}

func newImageImportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE|DIR NAME",
		Short: "Import a docker save tarball, an OCI layout or a root filesystem as NAME",
		Long: `Import an image into the server without a registry. FILE is a docker save tarball, an
OCI image layout tar or a root filesystem tar (each optionally gzipped; "-" reads stdin); DIR
is an OCI image layout directory or a root filesystem directory. The archive is streamed to
the server, which stores it as NAME (e.g. mytool:1); sandboxes then use it with --image NAME.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, name := args[0], args[1]
			body, err := importBody(cmd, src)
			if err != nil {
				return err
			}
			defer body.Close()
			img, err := newClient().ImportImage(cmd.Context(), name, body)
			if err != nil {
				return err
			}
			if remote.json {
				return printJSON(cmd, img)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d layers\n", img.Ref, img.Layers)
			return nil
		},
	}
}

// importBody opens a file (or stdin) as it is, or streams a directory as a tar.
func importBody(cmd *cobra.Command, src string) (io.ReadCloser, error) {
	if src == "-" {
		return io.NopCloser(cmd.InOrStdin()), nil
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return os.Open(src)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(image.WriteTar(cmd.Context(), pw, src)) }()
	return pr, nil
}
