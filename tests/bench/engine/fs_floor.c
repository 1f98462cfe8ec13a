/* fs_floor.c — the file-system cost the engine cannot avoid per step: create, write, stat, read back
 * and rename one small file into a 256-way fan-out, as a plain loop. Prints µs per file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fs_floor DIR N\n");
        return 2;
    }
    const char *dir = argv[1];
    int n = atoi(argv[2]);
    char p[4096], q[4096], buf[64];
    snprintf(p, sizeof p, "%s/tmp", dir);
    mkdir(p, 0755);
    for (int i = 0; i < 256; i++) {
        snprintf(p, sizeof p, "%s/%02x", dir, i);
        mkdir(p, 0755);
    }
    double t0 = now();
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/tmp/%d.out", dir, i);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, "x", 1) != 1 || close(fd) != 0) return 1;
        struct stat sb;
        if (stat(p, &sb) != 0) return 1;
        fd = open(p, O_RDONLY);
        if (fd < 0 || read(fd, buf, sizeof buf) < 0) return 1;
        close(fd);
        snprintf(q, sizeof q, "%s/%02x/%064d.out", dir, i % 256, i);
        if (rename(p, q) != 0) return 1;
    }
    printf("%.1f\n", (now() - t0) / n * 1e6);
    return 0;
}
