package manager

// maxOutputRuns bounds how many alternations between stdout and stderr the interleaved
// output records (8 bytes each); a command that alternates more has the rest of its output
// only in Stdout and Stderr, and is marked truncated.
const maxOutputRuns = 1 << 16

// capture collects a buffered command's output: each stream up to limit bytes, grown
// without ever holding more than limit of spare capacity, and the order in which the two
// streams arrived, so that the interleaved output is read from the same bytes instead of
// being kept a third time.
type capture struct {
	limit          int
	stdout, stderr []byte
	runs           []outputRun
	runsFull       bool // maxOutputRuns reached: the interleaved output ends there
	truncated      bool
}

// outputRun is a stretch of one stream in the interleaved output: it ends at byte end of
// that stream.
type outputRun struct {
	stderr bool
	end    uint32
}

// add keeps what fits of one chunk of output.
func (c *capture) add(stderr bool, data []byte) {
	buf := &c.stdout
	if stderr {
		buf = &c.stderr
	}
	if n := c.limit - len(*buf); n < len(data) {
		c.truncated = true
		data = data[:max(n, 0)]
	}
	if len(data) == 0 {
		return
	}
	*buf = grow(*buf, len(data), c.limit)
	*buf = append(*buf, data...)
	end := uint32(len(*buf))
	switch last := len(c.runs) - 1; {
	case c.runsFull:
	case last >= 0 && c.runs[last].stderr == stderr:
		c.runs[last].end = end
	case len(c.runs) == maxOutputRuns:
		c.runsFull, c.truncated = true, true
	default:
		c.runs = append(c.runs, outputRun{stderr: stderr, end: end})
	}
}

// grow makes room for n more bytes, doubling but never past limit.
func grow(b []byte, n, limit int) []byte {
	if len(b)+n <= cap(b) {
		return b
	}
	size := min(max(2*cap(b), len(b)+n, 4096), max(limit, len(b)+n))
	nb := make([]byte, len(b), size)
	copy(nb, b)
	return nb
}

// interleaved returns the output in arrival order as slices of stdout and stderr.
func (c *capture) interleaved() [][]byte {
	parts := make([][]byte, 0, len(c.runs))
	var out, errs uint32
	for _, r := range c.runs {
		if r.stderr {
			parts = append(parts, c.stderr[errs:r.end])
			errs = r.end
		} else {
			parts = append(parts, c.stdout[out:r.end])
			out = r.end
		}
	}
	return parts
}
