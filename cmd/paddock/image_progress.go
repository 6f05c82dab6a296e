package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/image"
)

// pullBar shows pull progress: one bar per layer redrawn in place on a terminal, one line
// per finished layer otherwise. Safe for concurrent use.
type pullBar struct {
	w   io.Writer
	tty bool

	mu     sync.Mutex
	layers []client.PullProgress // by index-1
	drawn  int                   // lines drawn by the last redraw
	last   time.Time
	header bool
}

// newPullBar draws on stderr, as bars when it is a terminal.
func newPullBar() *pullBar {
	return &pullBar{w: os.Stderr, tty: term.IsTerminal(int(os.Stderr.Fd()))}
}

// fromImage converts an in-process engine's update.
func fromImage(p image.Progress) client.PullProgress {
	return client.PullProgress{Ref: p.Ref, Layer: p.Layer, Index: p.Index, Layers: p.Layers,
		Current: p.Current, Total: p.Total, Done: p.Done, Cached: p.Cached}
}

func (b *pullBar) update(p client.PullProgress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.header {
		b.header = true
		fmt.Fprintf(b.w, "pulling %s (%d layers)\n", p.Ref, p.Layers)
	}
	if p.Index < 1 {
		return
	}
	for len(b.layers) < p.Index {
		b.layers = append(b.layers, client.PullProgress{Index: len(b.layers) + 1, Layers: p.Layers})
	}
	prev := b.layers[p.Index-1]
	b.layers[p.Index-1] = p
	if !b.tty {
		if p.Done && !prev.Done {
			fmt.Fprintln(b.w, layerLine(p, false))
		}
		return
	}
	if !p.Done && time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.redraw()
}

// redraw rewrites the layer lines in place.
func (b *pullBar) redraw() {
	b.last = time.Now()
	var sb strings.Builder
	if b.drawn > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", b.drawn)
	}
	for _, l := range b.layers {
		sb.WriteString("\x1b[2K")
		sb.WriteString(layerLine(l, true))
		sb.WriteByte('\n')
	}
	b.drawn = len(b.layers)
	_, _ = io.WriteString(b.w, sb.String())
}

// layerLine describes one layer: a bar on terminals, a plain summary otherwise.
func layerLine(p client.PullProgress, bar bool) string {
	id := strings.TrimPrefix(p.Layer, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	if id == "" {
		id = "waiting"
	}
	head := fmt.Sprintf("layer %d/%d %-12s", p.Index, p.Layers, id)
	switch {
	case p.Cached:
		return head + "  already present"
	case p.Done:
		return head + "  done " + humanBytes(p.Total)
	case !bar:
		return head
	}
	const width = 30
	fill := 0
	if p.Total > 0 {
		fill = int(float64(width) * float64(p.Current) / float64(p.Total))
		fill = min(fill, width)
	}
	return fmt.Sprintf("%s  [%s%s] %s / %s", head, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		humanBytes(p.Current), humanBytes(p.Total))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
