// Times CLBlast's SGEMM on one OpenCL device, for Benchmarks/compare.py.
// usage: clblast_sgemm [-p "GEMMK=0 KREG=1 KWG=32 ..."] DEVICE_INDEX M K N [M K N ...]
// -p overrides the Xgemm kernel's parameters (the "best_parameters" line of CLBlast's tuner) for
// this device through CLBlastOverrideParameters, so a tuned CLBlast runs without a rebuild.
// prints one line per shape: "MxKxN median_ms". Wall time around the call and clFinish: CLBlast
// may run several kernels (padding, transposes) per call and returns the event of only one.
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Applies "NAME=VALUE NAME=VALUE ..." to CLBlast's Xgemm kernel (PRECISION is not a parameter).
static int override_xgemm(cl_device_id device, const char *text) {
    char *names[32];
    size_t values[32];
    size_t count = 0;
    char *copy = strdup(text);
    for (char *item = strtok(copy, " "); item && count < 32; item = strtok(NULL, " ")) {
        char *equals = strchr(item, '=');
        if (!equals || strncmp(item, "PRECISION=", 10) == 0) continue;
        *equals = 0;
        names[count] = item;
        values[count++] = strtoul(equals + 1, NULL, 10);
    }
    CLBlastStatusCode code = CLBlastOverrideParameters(device, "Xgemm", CLBlastPrecisionSingle, count,
                                                       (const char **)names, values);
    free(copy);
    if (code != CLBlastSuccess) { fprintf(stderr, "CLBlastOverrideParameters failed: %d\n", code); return 1; }
    return 0;
}

int main(int argc, char **argv) {
    const char *parameters = NULL;
    if (argc > 2 && strcmp(argv[1], "-p") == 0) {
        parameters = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc < 5 || (argc - 2) % 3 != 0) {
        fprintf(stderr, "usage: %s [-p PARAMETERS] DEVICE_INDEX M K N [M K N ...]\n", argv[0]);
        return 2;
    }
    int wanted = atoi(argv[1]);
    cl_platform_id platforms[8];
    cl_uint platformCount = 0;
    clGetPlatformIDs(8, platforms, &platformCount);
    cl_device_id device = NULL;
    int index = 0;
    // Same order as Tessel's discovery: platforms in order, every device of each.
    for (cl_uint p = 0; p < platformCount && !device; p++) {
        cl_device_id ids[16];
        cl_uint count = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 16, ids, &count) != CL_SUCCESS) continue;
        for (cl_uint d = 0; d < count; d++, index++) if (index == wanted) device = ids[d];
    }
    if (!device) { fprintf(stderr, "no OpenCL device %d\n", wanted); return 1; }
    if (parameters && override_xgemm(device, parameters) != 0) return 1;
    cl_int status;
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &status);
    cl_command_queue queue = clCreateCommandQueue(context, device, 0, &status);
    for (int arg = 2; arg + 2 < argc; arg += 3) {
        size_t m = atol(argv[arg]), k = atol(argv[arg + 1]), n = atol(argv[arg + 2]);
        float *host = malloc(sizeof(float) * (m * k + k * n));
        for (size_t i = 0; i < m * k + k * n; i++) host[i] = (float)rand() / RAND_MAX - 0.5f;
        cl_mem a = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof(float) * m * k, host, &status);
        cl_mem b = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof(float) * k * n, host + m * k, &status);
        cl_mem c = clCreateBuffer(context, CL_MEM_READ_WRITE, sizeof(float) * m * n, NULL, &status);
        clFinish(queue);
        double times[50];
        int runs = 0;
        double total = 0;
        for (int run = -2; run < 50 && (run < 5 || total < 0.5); run++) {
            double start = now();
            CLBlastStatusCode code = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m, n, k,
                                                  1.0f, a, 0, k, b, 0, n, 0.0f, c, 0, n, &queue, NULL);
            if (code != CLBlastSuccess) { fprintf(stderr, "CLBlastSgemm failed: %d\n", code); return 1; }
            clFinish(queue);
            double seconds = now() - start;
            if (run >= 0) { times[runs++] = seconds * 1e3; total += seconds; }
        }
        qsort(times, runs, sizeof(double), compare);
        printf("%zux%zux%zu %.4f\n", m, k, n, times[runs / 2]);
        fflush(stdout);
        clReleaseMemObject(a); clReleaseMemObject(b); clReleaseMemObject(c);
        free(host);
    }
    return 0;
}
