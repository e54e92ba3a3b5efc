/* A statically linked program: LD_PRELOAD cannot apply to it, and the agent
 * must say so rather than record nothing silently. */
int main(void) { return 0; }
