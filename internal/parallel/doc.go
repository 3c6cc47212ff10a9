// Package parallel runs independent pieces of work at once and waits for
// all of them. A Lambda's request often needs several reads that do not
// depend on each other; made one after another, each costs a full round
// trip to the store, so a request of ten reads waits ten round trips.
// Started together they cost about one.
//
// Each runs n indexed jobs with at most limit under way (so a request with
// many states does not open a connection per state); Do runs a few
// different jobs all at once. Both wait for every job they started and
// return the jobs' errors joined, in the jobs' order, so a caller that maps
// the first error (errors.As) sees the one a sequential loop would have
// returned first; a lone failure comes back unwrapped, as a sequential call
// would have returned it. A job's panic is raised again in the caller, so
// a handler's recovery still answers 500 instead of the process ending.
package parallel
