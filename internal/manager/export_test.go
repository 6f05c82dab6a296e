package manager

// ProcessLost is processLost, for the external tests.
var ProcessLost = (*Manager).processLost
