// The Linux headers Swift's Glibc module leaves out: epoll (the event loop's poller) and eventfd
// (how another thread wakes the loop). Declarations only; Runtime calls them directly.
#include <sys/epoll.h>
#include <sys/eventfd.h>
