/* worker_main.c — `sciloop-worker`: the small executable the local executor starts once per step attempt.
 * It is `sciloop step` without the XML, planning and CLI code, so it starts in a fraction of the time. */
#include "cli.h"

int main(int argc, char **argv) { return cmd_step(argc, argv); }
