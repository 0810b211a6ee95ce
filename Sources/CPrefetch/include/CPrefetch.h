// The compiler's cache prefetch, for Swift, which has no spelling for it.
static inline void mnist_softmax_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
