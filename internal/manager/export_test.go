package manager

// ProcessLost is processLost, for the external tests.
var ProcessLost = (*Manager).processLost

// ReapExpired is one pass of the TTL and idle reaper, for tests that move the clock.
var ReapExpired = (*Manager).reapExpired

// FlushActivity shares the uses this replica saw since the last flush, as its flusher does.
var FlushActivity = (*Manager).flushActivity
