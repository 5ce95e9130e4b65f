/* A program for tests/test_gdb.py, built with symbols (-g -O0, not stripped). */
#include <stdio.h>
int counter;
int add(int a, int b) { return a + b; }
int main(int argc, char **argv) {
    for (int i = 0; i < 3; i++)
        counter = add(counter, i);
    printf("counter %d\n", counter);
    return counter;
}
