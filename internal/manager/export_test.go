package manager

// ProcessLost is processLost, for the external tests.
var ProcessLost = (*Manager).processLost

// ReapExpired is one pass of the TTL and idle reaper, for tests that move the clock.
var ReapExpired = (*Manager).reapExpired

// CheckAll is one periodic reconcile pass (orphans included), for tests that move the clock.
var CheckAll = (*Manager).checkAll

// FlushActivity shares the uses this replica saw since the last flush, as its flusher does.
var FlushActivity = (*Manager).flushActivity
