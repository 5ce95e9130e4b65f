/* A program for tests/test_gdb.py, built with symbols (-g -O0, not stripped). */
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
int add(int a, int b) { return a + b; }
int main(void) {
    pid_t pid = fork();
    int r = add(pid == 0 ? 1 : 2, 40);
    if (pid == 0) { printf("child %d\n", r); fflush(stdout); _exit(0); }
    waitpid(pid, 0, 0);
    printf("parent %d\n", r);
    return 0;
}
