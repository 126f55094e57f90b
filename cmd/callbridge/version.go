package main

// revision is the commit, set at build time (-ldflags "-X main.revision=<sha>") by deploy/image
// and the Dockerfile. Go's own VCS stamping (vcs.revision) is missing in git worktrees, source
// archives and builds with -buildvcs=false, so commit() prefers this when it is set.
var revision string
