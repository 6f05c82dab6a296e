package apitype

// Image is an image the server holds.
type Image struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest,omitempty"`
	Layers int    `json:"layers"`
}

// PullRequest is the body of POST /images/pull.
type PullRequest struct {
	Ref string `json:"ref"`
}

// PullProgress is one update of a pull: how far one layer's download has come. Layer is
// empty on the first update, which only says how many layers there are.
type PullProgress struct {
	Ref     string `json:"ref"`
	Layer   string `json:"layer,omitempty"`
	Index   int    `json:"index"`  // 1-based, lowest layer first
	Layers  int    `json:"layers"` // layers in the image
	Current int64  `json:"current"`
	Total   int64  `json:"total"` // 0 when unknown
	Done    bool   `json:"done,omitempty"`
	Cached  bool   `json:"cached,omitempty"` // the layer was already on the server
}

// PullEvent is the data of a "progress" event while an image is pulled (streamed pulls and
// /run/stream): Stage is "pulling".
type PullEvent struct {
	Stage string `json:"stage"`
	PullProgress
}

// PruneResult answers POST /images/prune.
type PruneResult struct {
	LayersRemoved int   `json:"layers_removed"`
	BytesFreed    int64 `json:"bytes_freed"`
}
