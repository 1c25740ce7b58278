/* What creating a small file costs on this disk right now: N times open(O_CREAT) a new file in
   DIR, write "hi\n", close, as smoke-runner writes a step log. Prints the mean microseconds per
   file. The files are left in place: deleting them would make the next probe slower (see
   benches/README.md, "Creating files after a mass deletion"). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: create_probe DIR N\n");
    return 2;
  }
  int n = atoi(argv[2]);
  if (n <= 0) {
    fprintf(stderr, "create_probe: N must be a positive number, not '%s'\n", argv[2]);
    return 2;
  }
  char path[4096];
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%04d.log", argv[1], i);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, "hi\n", 3) != 3 || close(fd) != 0) {
      perror(path);
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  double ns = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
  printf("%.1f\n", ns / 1e3 / n);
  return 0;
}
