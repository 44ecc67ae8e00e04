// SPDX-License-Identifier: GPL-2.0
/*
 * vgetrandom-harness: measure vDSO getrandom() and the memory it lives in.
 *
 * One static-friendly C file, libc only, so that it runs on the host and,
 * linked with -static, as the only program of a QEMU guest's initramfs.
 *
 * Usage: vgetrandom-harness [SUBCOMMAND [OPTIONS]]
 *
 *   (none) | selfcheck  TAP self-check; a missing feature is "ok N # SKIP".
 *   callcost   vDSO getrandom against the getrandom syscall.
 *              --sizes 4,16,...  --threads N (0: one per online CPU)
 *              --samples N  --sample-ms MS  --modes vdso,syscall
 *   reseed     one vDSO call on a warm state, on a state whose page was
 *              dropped (MADV_DONTNEED) and then read by the harness (so the
 *              shared zero page is mapped when the call writes), on a state
 *              zeroed in place, and on a dropped state nobody read first
 *              (dropped_unread: what the vDSO meets, its own read of
 *              state->in_use faulting in the zero page, its write replacing
 *              it); also the clock's own cost.
 *              --samples N  --rounds N  --size-bytes B
 *   idlecall   one call after an idle gap, as a rarely calling thread
 *              makes it: sleep, then time one vdso call (state warm), one
 *              on a state dropped before the sleep, one syscall, in turn.
 *              --gaps-ms 0,1,100,1000,20000  --calls N (per gap and mode)
 *              --modes vdso,dropped,syscall (those taking turns)
 *              --size-bytes B  --spin 1: a SCHED_IDLE spinner on every
 *              CPU, so that none goes idle while the thread sleeps.
 *              --companion MODE:HZ:THREADS (vdso or syscall): THREADS more
 *              threads of the same process calling that way, each at HZ
 *              with exponential gaps, on states of their own page(s), as
 *              a busy process's other threads call while one sleeps;
 *              vdso:HZ:THREADS:shared puts their states on the timed
 *              state's page instead, as its page-mates; :next on the
 *              pages after its own in its mapping, as the states
 *              experiment lays out its classes.
 *              --read-first 1: before the clock starts, mincore() the
 *              state's page and read its generation word, as the states
 *              experiment's threads do before each timed call.
 *              --abs-sleep 1: sleep with clock_nanosleep(TIMER_ABSTIME)
 *              to a deadline and read the clock on waking, as the states
 *              experiment's threads wake.
 *              --thread 1: all of it in a thread the process creates
 *              (default attributes), not in its main thread; 2: the
 *              same, it and its companions on 64 KiB stacks, as the
 *              states experiment's threads.
 *              --fork 1: all of it in a child the process forks (no
 *              exec), as the states experiment's callers run.
 *              --companion-check 1: each companion works around its call
 *              as the states experiment's threads do (a deadline, the
 *              zeroed check, clock reads, sched_getcpu()).
 *              --touch-buf 1: write the bytes the call will write before
 *              the clock starts (the states threads' 256-byte buffer
 *              lies in their hot frame; idlecall's is 4 KiB).
 *              --call-code own|shared: the timed call made in a function
 *              of its own (the clock, the call, the clock), and with
 *              shared every companion's call made through it too, as the
 *              states experiment's threads all run one loop; none (the
 *              default): the call timed inline.
 *              --repeat N: which of several runs of the same setting this
 *              is, echoed in its rows and changing nothing else.
 *              --count-switches 1: nivcsw, the thread's involuntary
 *              context switches from before its sleep to after its call
 *              (getrusage(RUSAGE_THREAD)), so that a call the scheduler
 *              preempted can be told apart; na where not counted.
 *              --thread-cpu 1: thread_cpu_ns, the thread's CPU time
 *              (CLOCK_THREAD_CPUTIME_ID) over the same span; 2: over the
 *              call alone, the clock read just before and after it (which
 *              warms the call's path: a setting of its own); na otherwise.
 *   fault      first-touch cost per page: anon, droppable, mlock2 onfault,
 *              MAP_LOCKED, and mlock/munlock of resident pages; a read
 *              first touch of droppable pages (droppable_read: the shared
 *              zero page is mapped); and a read then a write of each page
 *              (anon_rw, droppable_rw, mlock2_onfault_rw), as the vDSO
 *              touches a state: two faults; and the same on one page at a
 *              time just dropped by MADV_DONTNEED, each timed alone, as a
 *              state page faults back (anon_refault_rw, droppable_refault_rw,
 *              droppable_refault_read).
 *              --pages N  --samples N
 *   pressure   a memcg of --limit-mib L; a holder maps --droppable-mib D
 *              (--kind droppable|locked|anon|vdso|file: file is clean page
 *              cache of an unnamed file in --file-dir), --touch cold|hot|
 *              write (hot: every page read every --hot-ms MS; write: every
 *              page written, a dropped page faulting in fresh), by
 *              --readers N threads (N > 1: one pinned per CPU in turn),
 *              --tlb-flush none|sweep (sweep: the region's TLB entries
 *              flushed after every sweep, by an mprotect() round trip);
 *              then a hog grows to --hog-mib H; count the holder's pages
 *              that read back as zero (file: are no longer resident) and
 *              who was killed.  --samples N  --hold-ms MS  --timeout-s S
 *              --swap on: the memcg may swap (default off: memory.swap.max 0)
 *   oomtouch   a hog fills a memcg, its limit is lowered to its usage, then
 *              a toucher writes --pages N fresh droppable pages.  Who may
 *              the OOM killer take: --victims any (default scores),
 *              toucher (its oom_score_adj raised to 1000) or none
 *              (both at -1000, or on v1 without CAP_SYS_RESOURCE
 *              memory.oom_control oom_kill_disable).
 *              --hog-mib H (split over --hogs N processes, default 4, so
 *              that no hog outweighs a toucher at oom_score_adj 1000)
 *              --watchdog-s S  --samples N
 *              --kind vdso maps the region with the flags the vDSO reports.
 *   fork       the child's view of a droppable state and of mlock'd pages.
 *              --pages N
 *   statemem   per design (--kinds anon,droppable,mlock,mlock_inherit,
 *              unevictable,vdso): VmLck, Mlocked and Unevictable growth for
 *              --pages N touched state pages; what a forked child keeps and
 *              is charged; how many one-page mappings an unprivileged
 *              process gets under RLIMIT_MEMLOCK --limit-bytes B.
 *   memlock    how many opaque states can be mlock'd under RLIMIT_MEMLOCK
 *              and what the next mlock returns.
 *              --limit-bytes B[,B...]
 *   states     real vDSO states under memory pressure.  Threads in classes
 *              --classes RATE_HZ:THREADS[,...] call __vdso_getrandom()
 *              (--size-bytes B) on states mapped as the vDSO asks (a class
 *              RATE_HZ:THREADS:syscall calls getrandom(2) in the same loop,
 *              with no pressure: the syscall's price there), --per-page
 *              K in use per page (0: all 28), --layout grouped (each class
 *              on its own pages) or interleaved (classes dealt out in
 *              turn), --pattern poisson (exponential gaps, a generator per
 *              thread from --seed) or periodic (a class's threads all on the
 *              same absolute deadlines).  Before each call a thread reads
 *              its state's generation word: 0 means dropped (mincore() says
 *              whether the page was absent or a page-mate faulted it back).
 *              Calls start, then the pressure; after --settle-s S the
 *              counted window of --run-s S begins, cut into key lives of
 *              --key-life-s S.  Pressure, inside a memcg of --limit-mib L
 *              (0: none, global pressure only): --churn-mib F (a reader
 *              re-reading an unnamed F MiB file in --churn-dir, never
 *              tmpfs, at --churn-mib-s R, 0 = as fast as it reads),
 *              --hog-mib H (anonymous, held), --spike-mib P every
 *              --spike-period-s for --spike-hold-ms.  --samples N  --grace-s S
 *              --trace-ms MS (diagnostic, commentary lines only): every MS
 *              each state page's place on the LRU (pagemap, kpageflags)
 *              when it changes, and every zeroed call's time.
 *              --placement any|same|split: the scheduler places the caller
 *              and the pressure, or all on CPU 0, or the caller on CPU 1
 *              and the reader and hog on CPU 0.  Every run counts the calls
 *              made on the CPU the reader last read on, and the refaults
 *              (the first page-mate's zeroed call on an absent page) made
 *              there, and prints each move of the reader as commentary:
 *              # reader t_s=T cpu=C.  --reader-hop-ms MS (with --placement
 *              any): the reader moves itself to the next CPU every MS
 *              (sched_setaffinity), setting how often it moves; 0: the
 *              scheduler moves it.
 *              --tlb-flush-ms MS (0: none): a thread of the caller flushes
 *              the caller's whole TLB every MS, by an mprotect() round trip
 *              on a populated region of its own larger than x86's
 *              tlb_single_page_flush_ceiling, so that every call after a
 *              flush walks the page table and sets the accessed bit.
 *              --probe 1: two more threads of the caller, each calling
 *              every second (half a second apart) on a state of its own,
 *              timed as idlecall times its thread (--thread 1
 *              --read-first 1 --abs-sleep 1): one inline, as idlecall's
 *              default, one in a function of its own (--call-code own);
 *              their calls' means and medians printed apart.
 *              --split-prices 1: each call also notes how long before it
 *              the last call on its state's page began (any thread's, its
 *              own too), and each class prints its warm calls' count and
 *              mean by that gap (warm_mate_LT_calls, warm_mate_LT_ns_mean:
 *              the gap under LT; inf: the rest) and those of its warm calls
 *              made on the CPU the reader last read on (warm_beside_reader_*):
 *              is a call cheaper when a page-mate has just called, as
 *              timer-locked threads do, or dearer beside the reader?
 *              A syscall class may run under pressure with it: the same
 *              loop's price for getrandom(2) under the same pressure.
 *              In guests (issue 13): --churn-dev DEV churns through a
 *              block device's page cache instead of a file (a guest has
 *              only tmpfs), --swap on lets the memcg swap, --reclaim-mib M
 *              writes M MiB to the memcg's memory.reclaim (v2) every
 *              --reclaim-period-s S with no shortage, counting the state
 *              pages each write takes, --damon vaddr|fvaddr|paddr runs a
 *              DAMOS pageout scheme for regions idle --damon-min-age-s S
 *              (only where no kdamond exists).
 *
 * Every experiment that needs a memory cgroup uses cgroup v2 when its
 * memory controller is available, else v1, else reports a skip.  Cgroups
 * are named vgetrandom-harness.<pid>.<n> and removed on exit, error and
 * SIGINT/SIGTERM/SIGHUP/SIGALRM.
 *
 * Output, one line each, nothing else on stdout:
 *   sample exp=<name> key=value ...   one measurement or observation
 *   skip exp=<name> reason=<token>    an experiment this kernel cannot run
 *   # text                            commentary (TAP diagnostics too)
 *   TAP lines (TAP version, 1..N, ok, not ok) from the self-check only
 * Keys are [a-z_][a-z0-9_]*, values contain no blanks; "na" means not
 * measured.  Units are in the key names (_ns, _bytes, _pages, _mib, _kib).
 * Errors go to stderr as one line "vgetrandom-harness: error: ..." and the
 * exit status is 1; a bad option exits with status 2; a failed self-check
 * test exits with status 1.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif
#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif

enum {
	MAX_THREADS = 1024,
	MAX_SIZES = 32,
	MAX_HOGS = 8,
	MAX_READERS = 16,		/* pressure: threads sweeping the region */
	MAX_CHILDREN = MAX_HOGS + 1,
	CG_PATH = 512,			/* a cgroup directory's path */
	COUNTERS_TEXT = 1536,		/* counters_format() output */
	MIB = 1 << 20,
};

#define NS_PER_S	1000000000LL
#define READER_COMM	"vgr-reader"	/* the churn reader's comm, prctl(PR_SET_NAME) */
#define POLL_NS		1000000LL	/* 1 ms between looks at a shared flag */
#define REAP_NS		(2 * NS_PER_S)	/* a SIGKILL'd child is gone by then */
#define CHILD_NS	(30 * NS_PER_S)	/* a short-lived check child is done by then */

/* As in include/uapi/linux/random.h (6.11+); glibc 2.36's headers lack it. */
struct vgetrandom_params {
	uint32_t size_of_opaque_state;
	uint32_t mmap_prot;
	uint32_t mmap_flags;
	uint32_t reserved[13];
};

typedef ssize_t (*vgetrandom_fn)(void *buf, size_t len, unsigned int flags,
				 void *opaque_state, size_t opaque_len);

static struct {
	vgetrandom_fn fn;
	struct vgetrandom_params params;
	const char *missing;	/* why the vDSO cannot be used, or NULL */
} vdso;

static size_t page_bytes;
static pid_t harness_pid;	/* children watch for their parent going away */

/* ------------------------------------------------------------------ */
/* Errors, time, options                                              */

static void cleanup_all(void);

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vgetrandom-harness: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup_all();
	exit(1);
}

static void __attribute__((noreturn)) usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "vgetrandom-harness: error: %s: '%s' (see the comment at the top of vgetrandom-harness.c)\n",
		what, arg);
	exit(2);
}

/* The one timing helper: every wall-clock duration in this file comes from here. */
static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Sleep to an absolute CLOCK_MONOTONIC deadline (now_ns()'s clock). */
static void sleep_until_ns(int64_t deadline)
{
	struct timespec ts = { .tv_sec = deadline / NS_PER_S, .tv_nsec = deadline % NS_PER_S };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static long parse_long(const char *opt, const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		usage_error(opt, arg);
	return v;
}

/* "4,16,32" into out[]; returns the count. */
static int parse_list(const char *opt, const char *arg, long *out, int max, long min, long maxv)
{
	char buf[512], *tok, *save;
	int n = 0;

	if (strlen(arg) >= sizeof(buf))
		usage_error(opt, arg);
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			usage_error(opt, arg);
		out[n++] = parse_long(opt, tok, min, maxv);
	}
	if (!n)
		usage_error(opt, arg);
	return n;
}

/* Options are "--name value" pairs; each subcommand names the ones it takes. */
struct opt {
	const char *name;
	const char *value;	/* default, replaced by the command line */
};

static void parse_opts(int argc, char **argv, struct opt *opts)
{
	for (int i = 0; i < argc; i += 2) {
		struct opt *o;

		for (o = opts; o->name; o++)
			if (!strcmp(argv[i], o->name))
				break;
		if (!o->name)
			usage_error("unknown option", argv[i]);
		if (i + 1 >= argc)
			usage_error("option needs a value", argv[i]);
		o->value = argv[i + 1];
	}
}

static const char *opt_get(struct opt *opts, const char *name)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts->value;
	die("internal: no option %s", name);
}

static long opt_long(struct opt *opts, const char *name, long min, long max)
{
	return parse_long(name, opt_get(opts, name), min, max);
}

/* The index of the option's value in names[0 .. n-1]; else a usage error naming them. */
static int opt_choice(struct opt *opts, const char *name, const char *const names[], int n)
{
	const char *arg = opt_get(opts, name);
	char what[256];
	int len;

	for (int i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return i;
	len = snprintf(what, sizeof(what), "%s (one of", name);
	for (int i = 0; i < n && len < (int)sizeof(what); i++)
		len += snprintf(what + len, sizeof(what) - len, " %s", names[i]);
	if (len < (int)sizeof(what))
		snprintf(what + len, sizeof(what) - len, ")");
	usage_error(what, arg);
}

/* ------------------------------------------------------------------ */
/* Small file helpers for /proc and cgroupfs                          */

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

static ssize_t read_str(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -errno;
	while (total < (ssize_t)size - 1 && (n = read(fd, buf + total, size - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = 0;
	return total;
}

/* Value of "key <number>" or "key=<number>" in a file of such pairs, or -1. */
static long long read_keyed(const char *path, const char *key)
{
	char buf[16384], *p;
	size_t klen = strlen(key);

	if (read_str(path, buf, sizeof(buf)) <= 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, klen) && (p[klen] == ' ' || p[klen] == '='))
			return strtoll(p + klen + 1, NULL, 10);
	}
	return -1;
}

static long long read_ll(const char *path)
{
	char buf[64];

	if (read_str(path, buf, sizeof(buf)) <= 0)
		return -1;
	if (!strncmp(buf, "max", 3))
		return LLONG_MAX;
	return strtoll(buf, NULL, 10);
}

/* "VmLck:     123 kB" from /proc/<pid>/status. */
static long status_kib(pid_t pid, const char *field)
{
	char path[64], buf[8192], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_str(path, buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, field);
	return p ? strtol(p + strlen(field) + 1, NULL, 10) : -1;
}

/* Minor faults and scheduler state of a task, from /proc/<pid>/stat. */
static long proc_minflt(pid_t pid, char *state)
{
	char path[64], buf[1024], *p;
	long minflt = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	*state = '?';
	if (read_str(path, buf, sizeof(buf)) <= 0)
		return -1;
	p = strrchr(buf, ')');	/* comm may hold blanks */
	if (p && sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %ld", state, &minflt) != 2)
		minflt = -1;
	return minflt;
}

/* ------------------------------------------------------------------ */
/* vDSO: find __vdso_getrandom in the ELF image the kernel mapped       */

static void *vdso_lookup(const char *name)
{
	const Elf64_Ehdr *eh = (const void *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Phdr *ph;
	const Elf64_Shdr *sh;
	uintptr_t base = (uintptr_t)eh, load_offset = 0;
	bool have_load = false;

	if (!eh)
		return NULL;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    !eh->e_shoff || eh->e_shentsize != sizeof(Elf64_Shdr))
		return NULL;
	ph = (const void *)(base + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD) {
			load_offset = base + ph[i].p_offset - ph[i].p_vaddr;
			have_load = true;
			break;
		}
	}
	if (!have_load)
		return NULL;
	/*
	 * The kernel maps the whole vdso.so image, section headers included,
	 * so the dynamic symbol table can be walked without the hash tables.
	 */
	sh = (const void *)(base + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *sym;
		const char *strtab;
		size_t nsyms;

		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
			continue;
		sym = (const void *)(base + sh[i].sh_offset);
		strtab = (const void *)(base + sh[sh[i].sh_link].sh_offset);
		nsyms = sh[i].sh_size / sizeof(*sym);
		for (size_t j = 0; j < nsyms; j++) {
			if (ELF64_ST_TYPE(sym[j].st_info) != STT_FUNC ||
			    ELF64_ST_BIND(sym[j].st_info) != STB_GLOBAL ||
			    sym[j].st_shndx == SHN_UNDEF)
				continue;
			if (!strcmp(strtab + sym[j].st_name, name))
				return (void *)(load_offset + sym[j].st_value);
		}
	}
	return NULL;
}

static void vdso_init(void)
{
	ssize_t ret;

	vdso.fn = (vgetrandom_fn)vdso_lookup("__vdso_getrandom");
	if (!vdso.fn) {
		vdso.missing = getauxval(AT_SYSINFO_EHDR) ? "no___vdso_getrandom" : "no_vdso";
		return;
	}
	/* The documented probe: NULL buffer, ~0UL length returns the params. */
	ret = vdso.fn(NULL, 0, 0, &vdso.params, ~0UL);
	if (ret == -ENOSYS)
		vdso.missing = "vdso_getrandom_enosys";
	else if (ret)
		die("vgetrandom params probe returned %zd", ret);
	else if (!vdso.params.size_of_opaque_state || vdso.params.size_of_opaque_state > page_bytes)
		die("vgetrandom params: size_of_opaque_state=%u", vdso.params.size_of_opaque_state);
}

static ssize_t vdso_getrandom(void *buf, size_t len, void *state)
{
	return vdso.fn(buf, len, 0, state, vdso.params.size_of_opaque_state);
}

static ssize_t sys_getrandom(void *buf, size_t len)
{
	return syscall(SYS_getrandom, buf, len, 0);
}

/*
 * The call between two clock reads, in a function of its own, so that its
 * arguments are in registers before the clock starts.  Timed inline, the
 * compiler loads them between the reads (idlecall's state address from its
 * heap array), a load timed with a vDSO call and not with a syscall, which
 * takes no state; so timed, a busy process's vDSO call after a second
 * asleep paid 2.2-2.6 times as much in one build of this file as in a
 * later one, and in a function about the same in three layouts
 * (data/host/idlecall_builds.csv).  idlecall --call-code own|shared and
 * the states probe's PROBE_FUNCTION time calls here; with shared,
 * idlecall's companions call through it too (and drop its time), its code
 * run as often as the states loop's, which every thread there runs.
 */
static __attribute__((noinline)) int64_t timed_call(bool syscall, unsigned char *buf, long size,
						    void *state, ssize_t *ret)
{
	int64_t t0 = now_ns();

	*ret = syscall ? sys_getrandom(buf, size) : vdso_getrandom(buf, size, state);
	return now_ns() - t0;
}

/* The last line of a state must not cross a page, as glibc arranges it. */
static size_t states_per_page(void)
{
	return page_bytes / vdso.params.size_of_opaque_state;
}

/* n opaque states in pages mapped the way the vDSO asks; NULL on failure. */
static void **states_alloc(size_t n, size_t *map_bytes)
{
	size_t per_page = states_per_page();
	size_t pages = (n + per_page - 1) / per_page;
	void **states = calloc(n, sizeof(*states));
	char *block;

	if (!states)
		return NULL;
	*map_bytes = pages * page_bytes;
	block = mmap(NULL, *map_bytes, vdso.params.mmap_prot, vdso.params.mmap_flags, -1, 0);
	if (block == MAP_FAILED) {
		free(states);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		states[i] = block + (i / per_page) * page_bytes +
			    (i % per_page) * vdso.params.size_of_opaque_state;
	return states;
}

/*
 * Whether the vDSO asks for droppable state memory.  MAP_DROPPABLE is a
 * mapping type (the MAP_TYPE bits), not a flag bit: the exempt kernel's
 * MAP_UNEVICTABLE (0x09) shares its 0x08 bit.
 */
static bool vdso_states_droppable(void)
{
	return (vdso.params.mmap_flags & MAP_TYPE) == MAP_DROPPABLE;
}

/* NULL when MAP_DROPPABLE works here, else why not (a skip reason). */
static const char *droppable_missing(void)
{
	void *p = mmap(NULL, page_bytes, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return errno == EINVAL || errno == EOPNOTSUPP ? "map_droppable_unsupported" : "map_droppable_failed";
	munmap(p, page_bytes);
	return NULL;
}

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i])
			return false;
	return true;
}

/* mincore(): is the page mapped in, without touching (faulting) it? */
static bool page_resident(void *page)
{
	unsigned char vec = 0;

	return !mincore(page, page_bytes, &vec) && (vec & 1);
}

/* Reads the compiler must not drop go here. */
static volatile char sink;

/* ------------------------------------------------------------------ */
/* Memory cgroups, v1 or v2, and the children that live in them        */

struct memcg {
	char path[CG_PATH];
	bool v2;
	bool psi_cgroup;	/* memory.pressure exists (v2) */
};

struct child {
	pid_t pid;
	int status;
	bool reaped;
	bool killed_by_harness;
};

/* What the signal handler must undo; one experiment runs at a time. */
static struct {
	char memcg_path[CG_PATH];
	pid_t pids[MAX_CHILDREN];
} live;

static void live_add_pid(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (!live.pids[i]) {
			live.pids[i] = pid;
			return;
		}
}

static void live_del_pid(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (live.pids[i] == pid)
			live.pids[i] = 0;
}

static void damon_stop(void);

/* Only async-signal-safe calls: this also runs from the signal handler. */
static void cleanup_all(void)
{
	int64_t deadline;

	damon_stop();
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (live.pids[i] > 0)
			kill(live.pids[i], SIGKILL);
	deadline = now_ns() + REAP_NS;
	for (int i = 0; i < MAX_CHILDREN; i++) {
		while (live.pids[i] > 0 && now_ns() < deadline) {
			if (waitpid(live.pids[i], NULL, WNOHANG) != 0)
				live.pids[i] = 0;
			else
				sleep_ns(POLL_NS);
		}
	}
	if (live.memcg_path[0]) {
		deadline = now_ns() + REAP_NS;
		while (rmdir(live.memcg_path) && errno == EBUSY && now_ns() < deadline)
			sleep_ns(POLL_NS);
		live.memcg_path[0] = 0;
	}
}

static void on_fatal_signal(int sig)
{
	static const char msg[] = "vgetrandom-harness: interrupted, cgroups removed\n";

	cleanup_all();
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(128 + sig);
}

static void install_signal_cleanup(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
	struct sigaction sa = { .sa_handler = on_fatal_signal };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			die("sigaction: %s", strerror(errno));
}

/* Children die by default on these signals; they never run the cleanup. */
static void child_signal_defaults(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
}

/*
 * The mount to create memory cgroups under: v2 whose root offers the
 * memory controller, else a v1 hierarchy mounted with "memory".
 * Returns false, with a reason, when there is none (a bare guest).
 */
static bool memcg_find_root(char *root, bool *v2, const char **reason)
{
	char line[1024], dev[256], dir[PATH_MAX], type[64], opts[512], path[PATH_MAX + 32], ctl[256];
	char v1_root[PATH_MAX] = "";
	FILE *f = fopen("/proc/self/mounts", "re");

	*reason = "no_memory_cgroup_mounted";
	if (!f) {
		*reason = "no_proc_mounts";
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %4095s %63s %511s", dev, dir, type, opts) != 4)
			continue;
		if (!strcmp(type, "cgroup2")) {
			snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
			if (read_str(path, ctl, sizeof(ctl)) > 0 && strstr(ctl, "memory")) {
				fclose(f);
				strcpy(root, dir);
				*v2 = true;
				return true;
			}
		} else if (!strcmp(type, "cgroup") && !v1_root[0]) {
			char *tok, *save;

			for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (!strcmp(tok, "memory"))
					strcpy(v1_root, dir);
		}
	}
	fclose(f);
	if (!v1_root[0])
		return false;
	strcpy(root, v1_root);
	*v2 = false;
	return true;
}

static void memcg_file(const struct memcg *cg, const char *v1, const char *v2, char *out)
{
	snprintf(out, PATH_MAX, "%s/%s", cg->path, cg->v2 ? v2 : v1);
}

/* Create a fresh child memcg with a limit; false with a reason if impossible. */
static bool memcg_create(struct memcg *cg, long long limit_bytes, const char **reason)
{
	static int serial;
	char root[PATH_MAX], file[PATH_MAX + 64], val[32];
	int err;

	*cg = (struct memcg){ 0 };
	if (!memcg_find_root(root, &cg->v2, reason))
		return false;
	if (strlen(root) > CG_PATH - 64) {
		*reason = "cgroup_path_too_long";
		return false;
	}
	if (cg->v2) {
		snprintf(file, sizeof(file), "%s/cgroup.subtree_control", root);
		if (write_str(file, "+memory")) {
			*reason = "cannot_enable_memory_controller";
			return false;
		}
	}
	snprintf(cg->path, sizeof(cg->path), "%s/vgetrandom-harness.%d.%d", root, getpid(), serial++);
	if (mkdir(cg->path, 0755)) {
		*reason = errno == EACCES || errno == EPERM ? "cgroup_permission_denied" : "cgroup_mkdir_failed";
		return false;
	}
	strcpy(live.memcg_path, cg->path);
	snprintf(val, sizeof(val), "%lld", limit_bytes);
	memcg_file(cg, "memory.limit_in_bytes", "memory.max", file);
	if ((err = write_str(file, val)))
		die("%s: %s", file, strerror(-err));
	/* No swap for the experiment even where the machine has some. */
	if (cg->v2) {
		snprintf(file, sizeof(file), "%s/memory.swap.max", cg->path);
		write_str(file, "0");	/* absent without CONFIG_SWAP: fine */
		snprintf(file, sizeof(file), "%s/memory.pressure", cg->path);
		cg->psi_cgroup = access(file, R_OK) == 0;
	} else {
		snprintf(file, sizeof(file), "%s/memory.swappiness", cg->path);
		write_str(file, "0");
	}
	return true;
}

static int memcg_set_limit(const struct memcg *cg, long long limit_bytes)
{
	char file[PATH_MAX], val[32];

	snprintf(val, sizeof(val), "%lld", limit_bytes);
	memcg_file(cg, "memory.limit_in_bytes", "memory.max", file);
	return write_str(file, val);
}

static void memcg_enter(const struct memcg *cg)
{
	char file[PATH_MAX + 16], val[32];
	int err;

	snprintf(file, sizeof(file), "%s/cgroup.procs", cg->path);
	snprintf(val, sizeof(val), "%d", getpid());
	if ((err = write_str(file, val))) {
		fprintf(stderr, "vgetrandom-harness: error: %s: %s\n", file, strerror(-err));
		_exit(99);
	}
}

static long long memcg_usage(const struct memcg *cg)
{
	char file[PATH_MAX];

	memcg_file(cg, "memory.usage_in_bytes", "memory.current", file);
	return read_ll(file);
}

/* Counters read before and after an experiment; -1 where absent. */
struct counters {
	long long failcnt;		/* v1 memory.failcnt, v2 memory.events max */
	long long memcg_oom_kill;	/* v1 oom_control, v2 memory.events */
	long long psi_some_us, psi_full_us;
	long long pgscan_file, pgsteal_file, pgscan_anon, pgsteal_anon;
	/* Only on kernels with kernel-patches/patches/0001: drops counted, not inferred. */
	long long droppable_discard, droppable_fault_oom;
	long long pswpout;
	/*
	 * shrink_folio_list() counts a discarded anon !swapbacked folio,
	 * droppable or MADV_FREE'd, as PGLAZYFREED only when it was clean.
	 * A dirty one (every written state page) is unmapped by
	 * try_to_unmap_one() all the same, then taken for a dirty file folio
	 * (folio_is_file_lru() is true of !swapbacked folios) and sent to
	 * activate_locked: counted as PGACTIVATE, not as PGSTEAL or reclaimed,
	 * and freed when move_folios_to_lru() drops the isolation reference.
	 */
	long long pglazyfreed, pgactivate;
	/* The memcg's memory.stat (v1 and v2 share these names; absent: -1). */
	long long memcg_pgpgin, memcg_pgmajfault, memcg_refault_file, memcg_pgscan,
		  memcg_pglazyfreed;
	/* The machine's DAMON schemes, summed; read only (never written). */
	long long damon_nr_tried, damon_sz_tried, damon_nr_applied, damon_sz_applied,
		  damon_qt_exceeds;
};

static long long psi_total(const char *path, const char *line)
{
	char buf[512], *p;

	if (read_str(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, line)) ||
	    !(p = strstr(p, "total=")))
		return -1;
	return strtoll(p + 6, NULL, 10);
}

static const char *psi_scope(const struct memcg *cg)
{
	if (cg->psi_cgroup)
		return "cgroup";
	return access("/proc/pressure/memory", R_OK) ? "none" : "system";
}

#define DAMON_ADMIN "/sys/kernel/mm/damon/admin/kdamonds"

/* A number summed over every file the pattern matches; -1 if none. */
static long long sum_glob(const char *pattern)
{
	long long sum = -1, v;
	glob_t g;

	if (glob(pattern, 0, NULL, &g))
		return -1;
	for (size_t i = 0; i < g.gl_pathc; i++)
		if ((v = read_ll(g.gl_pathv[i])) >= 0)
			sum = (sum < 0 ? 0 : sum) + v;
	globfree(&g);
	return sum;
}

/*
 * DAMON's scheme stats files change only when something asks the kdamond
 * to refresh them (refresh_ms > 0, or a write of update_schemes_stats to
 * its state file, which this harness never does): "1" if every kdamond
 * refreshes by itself, "0" if one does not (its deltas then read 0 whatever
 * it did), "na" without DAMON or refresh_ms.
 */
static const char *damon_stats_fresh(void)
{
	glob_t g;
	bool fresh = true;

	if (glob(DAMON_ADMIN "/*/refresh_ms", 0, NULL, &g))
		return "na";
	for (size_t i = 0; i < g.gl_pathc; i++)
		fresh &= read_ll(g.gl_pathv[i]) > 0;
	globfree(&g);
	return fresh ? "1" : "0";
}

static void counters_read(const struct memcg *cg, struct counters *c)
{
	char file[PATH_MAX + 32];
	const char *psi = "/proc/pressure/memory";

	*c = (struct counters){ .failcnt = -1, .memcg_oom_kill = -1, .memcg_pgpgin = -1,
				.memcg_pgmajfault = -1, .memcg_refault_file = -1,
				.memcg_pgscan = -1, .memcg_pglazyfreed = -1 };
	if (!cg->path[0]) {
		/* No memcg: global pressure only. */
	} else if (cg->v2) {
		snprintf(file, sizeof(file), "%s/memory.events", cg->path);
		c->failcnt = read_keyed(file, "max");
		c->memcg_oom_kill = read_keyed(file, "oom_kill");
	} else {
		snprintf(file, sizeof(file), "%s/memory.failcnt", cg->path);
		c->failcnt = read_ll(file);
		snprintf(file, sizeof(file), "%s/memory.oom_control", cg->path);
		c->memcg_oom_kill = read_keyed(file, "oom_kill");
	}
	if (cg->path[0]) {
		snprintf(file, sizeof(file), "%s/memory.stat", cg->path);
		c->memcg_pgpgin = read_keyed(file, "pgpgin");
		c->memcg_pgmajfault = read_keyed(file, "pgmajfault");
		c->memcg_refault_file = read_keyed(file, "workingset_refault_file");
		c->memcg_pgscan = read_keyed(file, "pgscan");
		c->memcg_pglazyfreed = read_keyed(file, "pglazyfreed");
	}
	if (cg->psi_cgroup) {
		snprintf(file, sizeof(file), "%s/memory.pressure", cg->path);
		psi = file;
	}
	c->psi_some_us = psi_total(psi, "some");
	c->psi_full_us = psi_total(psi, "full");
	/* System-wide: memcg v1 has no scan counters.  The machine is otherwise idle. */
	c->pgscan_file = read_keyed("/proc/vmstat", "pgscan_file");
	c->pgsteal_file = read_keyed("/proc/vmstat", "pgsteal_file");
	c->pgscan_anon = read_keyed("/proc/vmstat", "pgscan_anon");
	c->pgsteal_anon = read_keyed("/proc/vmstat", "pgsteal_anon");
	c->droppable_discard = read_keyed("/proc/vmstat", "droppable_discard");
	c->droppable_fault_oom = read_keyed("/proc/vmstat", "droppable_fault_oom");
	c->pswpout = read_keyed("/proc/vmstat", "pswpout");
	c->pglazyfreed = read_keyed("/proc/vmstat", "pglazyfreed");
	c->pgactivate = read_keyed("/proc/vmstat", "pgactivate");
	c->damon_nr_tried = sum_glob(DAMON_ADMIN "/*/contexts/*/schemes/*/stats/nr_tried");
	c->damon_sz_tried = sum_glob(DAMON_ADMIN "/*/contexts/*/schemes/*/stats/sz_tried");
	c->damon_nr_applied = sum_glob(DAMON_ADMIN "/*/contexts/*/schemes/*/stats/nr_applied");
	c->damon_sz_applied = sum_glob(DAMON_ADMIN "/*/contexts/*/schemes/*/stats/sz_applied");
	c->damon_qt_exceeds = sum_glob(DAMON_ADMIN "/*/contexts/*/schemes/*/stats/qt_exceeds");
}

/* "key=delta" or "key=na" into buf. */
static int put_delta(char *buf, size_t size, const char *key, long long before, long long after)
{
	if (before < 0 || after < 0)
		return snprintf(buf, size, " %s=na", key);
	return snprintf(buf, size, " %s=%lld", key, after - before);
}

/* A number, or "na" where it was not measured. */
static const char *num_or_na(char *buf, size_t size, bool have, long long v)
{
	if (!have)
		return "na";
	snprintf(buf, size, "%lld", v);
	return buf;
}

static void counters_format(char *buf, size_t size, const struct memcg *cg,
			    const struct counters *a, const struct counters *b)
{
	size_t n = 0;

	n += put_delta(buf + n, size - n, "failcnt", a->failcnt, b->failcnt);
	n += put_delta(buf + n, size - n, "memcg_oom_kills", a->memcg_oom_kill, b->memcg_oom_kill);
	n += put_delta(buf + n, size - n, "psi_some_us", a->psi_some_us, b->psi_some_us);
	n += put_delta(buf + n, size - n, "psi_full_us", a->psi_full_us, b->psi_full_us);
	n += snprintf(buf + n, size - n, " psi_scope=%s", psi_scope(cg));
	n += put_delta(buf + n, size - n, "pgscan_file", a->pgscan_file, b->pgscan_file);
	n += put_delta(buf + n, size - n, "pgsteal_file", a->pgsteal_file, b->pgsteal_file);
	n += put_delta(buf + n, size - n, "pgscan_anon", a->pgscan_anon, b->pgscan_anon);
	n += put_delta(buf + n, size - n, "pgsteal_anon", a->pgsteal_anon, b->pgsteal_anon);
	n += put_delta(buf + n, size - n, "droppable_discard",
		       a->droppable_discard, b->droppable_discard);
	n += put_delta(buf + n, size - n, "droppable_fault_oom",
		       a->droppable_fault_oom, b->droppable_fault_oom);
	n += put_delta(buf + n, size - n, "pswpout", a->pswpout, b->pswpout);
	n += put_delta(buf + n, size - n, "pglazyfreed", a->pglazyfreed, b->pglazyfreed);
	n += put_delta(buf + n, size - n, "pgactivate", a->pgactivate, b->pgactivate);
	n += put_delta(buf + n, size - n, "memcg_pgpgin", a->memcg_pgpgin, b->memcg_pgpgin);
	n += put_delta(buf + n, size - n, "memcg_pgmajfault",
		       a->memcg_pgmajfault, b->memcg_pgmajfault);
	n += put_delta(buf + n, size - n, "memcg_workingset_refault_file",
		       a->memcg_refault_file, b->memcg_refault_file);
	n += put_delta(buf + n, size - n, "memcg_pgscan", a->memcg_pgscan, b->memcg_pgscan);
	n += put_delta(buf + n, size - n, "memcg_pglazyfreed",
		       a->memcg_pglazyfreed, b->memcg_pglazyfreed);
	n += put_delta(buf + n, size - n, "damon_nr_tried", a->damon_nr_tried, b->damon_nr_tried);
	n += put_delta(buf + n, size - n, "damon_sz_tried", a->damon_sz_tried, b->damon_sz_tried);
	n += put_delta(buf + n, size - n, "damon_nr_applied",
		       a->damon_nr_applied, b->damon_nr_applied);
	n += put_delta(buf + n, size - n, "damon_sz_applied",
		       a->damon_sz_applied, b->damon_sz_applied);
	n += put_delta(buf + n, size - n, "damon_qt_exceeds",
		       a->damon_qt_exceeds, b->damon_qt_exceeds);
	snprintf(buf + n, size - n, " damon_stats_fresh=%s", damon_stats_fresh());
}

/* Kill what is left in the cgroup, then remove it. */
static void memcg_destroy(struct memcg *cg)
{
	char file[PATH_MAX + 16], buf[4096], *p;
	int64_t deadline = now_ns() + REAP_NS;

	snprintf(file, sizeof(file), "%s/cgroup.procs", cg->path);
	while (read_str(file, buf, sizeof(buf)) > 0 && now_ns() < deadline) {
		for (p = buf; *p; p = strchr(p, '\n'), p = p ? p + 1 : "")
			if (isdigit((unsigned char)*p))
				kill((pid_t)strtol(p, NULL, 10), SIGKILL);
		sleep_ns(POLL_NS);
	}
	while (rmdir(cg->path) && now_ns() < deadline)
		sleep_ns(POLL_NS);
	if (access(cg->path, F_OK) == 0)
		die("cannot remove %s", cg->path);
	live.memcg_path[0] = 0;
}

static pid_t spawn(struct child *c)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		child_signal_defaults();
		return 0;
	}
	*c = (struct child){ .pid = pid };
	live_add_pid(pid);
	return pid;
}

static bool child_poll(struct child *c)
{
	if (!c->reaped && c->pid > 0 && waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
		c->reaped = true;
		live_del_pid(c->pid);
	}
	return c->reaped;
}

static void child_kill(struct child *c)
{
	int64_t deadline = now_ns() + REAP_NS;

	if (c->pid <= 0)
		return;
	if (!child_poll(c)) {
		c->killed_by_harness = true;
		kill(c->pid, SIGKILL);
	}
	while (!child_poll(c) && now_ns() < deadline)
		sleep_ns(POLL_NS);
	if (!c->reaped)
		die("child %d survived SIGKILL for %lld s", c->pid, REAP_NS / NS_PER_S);
}

/* Every wait for a child ends by the deadline: then it is SIGKILLed and reaped. */
static void child_wait(struct child *c, int64_t deadline)
{
	while (!child_poll(c) && now_ns() < deadline)
		sleep_ns(POLL_NS);
	child_kill(c);
}

/* How a child ended, as one token. */
static const char *child_fate(const struct child *c)
{
	if (!c->reaped)
		return "alive";
	if (WIFEXITED(c->status))
		return WEXITSTATUS(c->status) ? "exit_error" : "exited";
	if (WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGKILL)
		return c->killed_by_harness ? "killed_by_watchdog" : "oom_killed";
	return "signalled";
}

/* Shared between the parent and its children; the parent faults it in. */
struct shared {
	int stage;		/* parent's command, see enum stage */
	int holder_ready, hog_ready, hog_done, holder_done;
	long touched_pages, dropped_pages, lost_writes;
	int64_t hog_fill_ns, touch_ns;
	int hot_stop;
	long sweeps, write_refaults;	/* pressure: hot/write sweeps done, fresh pages written */
	long child_nonzero_bytes, child_call_ok, child_vmlck_kib;	/* fork */
	long holder_vmswap_kib;		/* pressure: the holder's pages in swap */
};

enum stage { STAGE_WAIT, STAGE_HOG_GO, STAGE_COUNT, STAGE_TOUCH, STAGE_EXIT };

/* Memory the parent and its children share; faulted in here, charged to the parent. */
static void *shared_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu shared bytes: %s", bytes, strerror(errno));
	memset(p, 0, bytes);
	return p;
}

static struct shared *shared_map(void)
{
	return shared_alloc(page_bytes);
}

static int load(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/*
 * Parent: wait until *flag == want, or a watched child ended, or the
 * deadline.  Returns true only when the flag was seen.
 */
static bool parent_wait(const int *flag, int want, struct child *watch, int nwatch, int64_t deadline)
{
	for (;;) {
		if (load(flag) == want)
			return true;
		for (int i = 0; i < nwatch; i++)
			if (child_poll(&watch[i]))
				return load(flag) == want;
		if (now_ns() >= deadline)
			return false;
		sleep_ns(POLL_NS);
	}
}

/* Child: wait for the parent's next stage; exit if the parent is gone. */
static void child_wait_stage(struct shared *sh, int want, int64_t deadline)
{
	while (load(&sh->stage) < want) {
		if (now_ns() >= deadline || getppid() != harness_pid)
			_exit(98);
		sleep_ns(POLL_NS);
	}
}

/* ------------------------------------------------------------------ */
/* Self-check (TAP)                                                    */

static int tap_n;
static int tap_failed;

static void tap(bool ok, const char *skip, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", ok || skip ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (skip)
		printf(" # SKIP %s", skip);
	putchar('\n');
	if (!ok && !skip)
		tap_failed++;
}

static int cmd_selfcheck(int argc, char **argv)
{
	enum { PLAN = 7 };
	unsigned char buf[4096];
	const char *no_vdso, *reason;
	void **states = NULL;
	size_t map_bytes = 0;
	struct memcg cg;
	bool ok;
	char *p;

	if (argc)
		usage_error("selfcheck takes no options", argv[0]);
	printf("TAP version 13\n1..%d\n", PLAN);
	no_vdso = vdso.missing;
	tap(!no_vdso, no_vdso, "vdso: __vdso_getrandom resolved and params read");

	if (!no_vdso) {
		printf("# size_of_opaque_state=%u mmap_prot=%#x mmap_flags=%#x\n",
		       vdso.params.size_of_opaque_state, vdso.params.mmap_prot, vdso.params.mmap_flags);
		states = states_alloc(1, &map_bytes);
	}
	ok = true;
	if (!no_vdso) {
		static const size_t sizes[] = { 1, 4, 16, 32, 64, 256, 1024, 1263, 4096 };

		for (size_t i = 0; states && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			memset(buf, 0, sizeof(buf));
			ok &= vdso_getrandom(buf, sizes[i], states[0]) == (ssize_t)sizes[i] &&
			      (sizes[i] < 8 || !all_zero(buf, sizes[i]));
		}
		ok &= states != NULL;
	}
	tap(ok, no_vdso, "vdso: getrandom returns the length asked for and non-zero bytes");

	p = mmap(NULL, page_bytes, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		tap(false, e == EINVAL || e == EOPNOTSUPP ? "MAP_DROPPABLE unsupported" : NULL,
		    "droppable: MADV_DONTNEED reads back as zero (mmap: %s)", strerror(e));
	} else {
		memset(p, 0xa5, page_bytes);
		ok = madvise(p, page_bytes, MADV_DONTNEED) == 0 && all_zero(p, page_bytes);
		tap(ok, NULL, "droppable: MADV_DONTNEED reads back as zero");
		munmap(p, page_bytes);
	}

	/*
	 * Test 4 drops the state's page with MADV_DONTNEED, which madvise()
	 * refuses on a locked mapping (can_madv_lru_vma()): on a kernel whose
	 * vDSO asks for MAP_UNEVICTABLE states (0003) it cannot be dropped.
	 */
	ok = false;
	if (!no_vdso && states && !vdso_states_droppable()) {
		tap(false, "vdso states are not MAP_DROPPABLE",
		    "reseed: a dropped state is refilled by the next vDSO call");
	} else if (!no_vdso && states) {
		size_t n = vdso.params.size_of_opaque_state;

		ok = !all_zero(states[0], n) &&
		     madvise((void *)((uintptr_t)states[0] & ~(page_bytes - 1)), page_bytes, MADV_DONTNEED) == 0 &&
		     all_zero(states[0], n) && vdso_getrandom(buf, 32, states[0]) == 32 &&
		     !all_zero(states[0], n);
		tap(ok, NULL, "reseed: a dropped state is refilled by the next vDSO call");
	} else {
		tap(false, no_vdso ? no_vdso : NULL,
		    "reseed: a dropped state is refilled by the next vDSO call");
	}

	ok = false;
	if (!no_vdso && states) {
		struct child c;

		if (!spawn(&c))
			_exit(all_zero(states[0], vdso.params.size_of_opaque_state) &&
			      vdso_getrandom(buf, 16, states[0]) == 16 ? 0 : 1);
		child_wait(&c, now_ns() + CHILD_NS);
		ok = WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0;
	}
	tap(ok, no_vdso, "fork: the child sees the droppable state wiped and can reseed it");

	p = mmap(NULL, page_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	if (mlock(p, page_bytes)) {
		tap(false, errno == EPERM || errno == ENOMEM ? "mlock not permitted" : NULL,
		    "mlock: %s", strerror(errno));
	} else {
		struct child c;
		long parent_kib = status_kib(getpid(), "VmLck:");

		if (!spawn(&c))
			_exit(status_kib(getpid(), "VmLck:") == 0 ? 0 : 1);
		child_wait(&c, now_ns() + CHILD_NS);
		tap(parent_kib > 0 && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0, NULL,
		    "mlock: parent VmLck %ld kB, child's is 0 (not inherited)", parent_kib);
	}
	munmap(p, page_bytes);

	if (memcg_create(&cg, 64LL * MIB, &reason)) {
		printf("# memcg %s (cgroup v%d)\n", cg.path, cg.v2 ? 2 : 1);
		memcg_destroy(&cg);
		tap(access(cg.path, F_OK) != 0, NULL, "memcg: child cgroup created and removed");
	} else {
		tap(false, reason, "memcg: child cgroup created and removed");
	}
	if (states)
		munmap((void *)((uintptr_t)states[0] & ~(page_bytes - 1)), map_bytes);
	free(states);
	if (tap_n != PLAN)
		die("internal: self-check ran %d tests, planned %d", tap_n, PLAN);
	printf("# %d failed\n", tap_failed);
	return tap_failed ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* callcost                                                            */

enum mode { MODE_VDSO, MODE_SYSCALL };
static const char *const mode_names[] = { "vdso", "syscall" };

struct call_job {
	enum mode mode;
	size_t size_bytes;
	long calls;
	void *state;
	pthread_barrier_t *start;
	int64_t elapsed_ns;
	bool failed;
};

static bool call_once(enum mode mode, unsigned char *buf, size_t len, void *state)
{
	ssize_t r = mode == MODE_VDSO ? vdso_getrandom(buf, len, state) : sys_getrandom(buf, len);

	return r == (ssize_t)len;
}

static void *call_thread(void *arg)
{
	struct call_job *job = arg;
	unsigned char buf[4096];
	int64_t t0;

	/* Warm the state, the batch and the caches outside the timed loop. */
	for (int i = 0; i < 64; i++)
		job->failed |= !call_once(job->mode, buf, job->size_bytes, job->state);
	pthread_barrier_wait(job->start);
	t0 = now_ns();
	for (long i = 0; i < job->calls; i++)
		if (!call_once(job->mode, buf, job->size_bytes, job->state))
			job->failed = true;
	job->elapsed_ns = now_ns() - t0;
	return NULL;
}

/* One sample: each of nthreads threads makes `calls` calls at once. */
static void run_calls(struct call_job *jobs, int nthreads)
{
	pthread_t tid[MAX_THREADS];
	pthread_barrier_t start;
	int err;

	if ((err = pthread_barrier_init(&start, NULL, nthreads)))
		die("pthread_barrier_init: %s", strerror(err));
	for (int t = 0; t < nthreads; t++) {
		jobs[t].start = &start;
		jobs[t].failed = false;
		if ((err = pthread_create(&tid[t], NULL, call_thread, &jobs[t])))
			die("pthread_create: %s", strerror(err));
	}
	for (int t = 0; t < nthreads; t++)
		pthread_join(tid[t], NULL);
	pthread_barrier_destroy(&start);
	for (int t = 0; t < nthreads; t++)
		if (jobs[t].failed)
			die("%s getrandom of %zu bytes failed", mode_names[jobs[t].mode], jobs[t].size_bytes);
}

static int cmd_callcost(int argc, char **argv)
{
	struct opt opts[] = {
		{ "--sizes", "4,16,32,64,256,1024,4096" }, { "--threads", "1" },
		{ "--samples", "10" }, { "--sample-ms", "50" }, { "--modes", "vdso,syscall" },
		{ NULL, NULL },
	};
	long sizes[MAX_SIZES], nsamples, sample_ms;
	int nsizes, nthreads, nmodes = 0;
	enum mode modes[2];
	struct call_job jobs[MAX_THREADS];
	void **states;
	size_t map_bytes;
	char mbuf[64], *tok, *save;

	parse_opts(argc, argv, opts);
	nsizes = parse_list("--sizes", opt_get(opts, "--sizes"), sizes, MAX_SIZES, 1, 4096);
	nthreads = opt_long(opts, "--threads", 0, MAX_THREADS);
	if (!nthreads)
		nthreads = sysconf(_SC_NPROCESSORS_ONLN);
	if (nthreads < 1 || nthreads > MAX_THREADS)
		die("online CPUs (%d) outside 1..%d", nthreads, MAX_THREADS);
	nsamples = opt_long(opts, "--samples", 1, 100000);
	sample_ms = opt_long(opts, "--sample-ms", 1, 600000);
	snprintf(mbuf, sizeof(mbuf), "%s", opt_get(opts, "--modes"));
	for (tok = strtok_r(mbuf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (nmodes == 2)
			usage_error("--modes", opt_get(opts, "--modes"));
		if (!strcmp(tok, "vdso"))
			modes[nmodes++] = MODE_VDSO;
		else if (!strcmp(tok, "syscall"))
			modes[nmodes++] = MODE_SYSCALL;
		else
			usage_error("--modes", tok);
	}
	for (int m = 0; m < nmodes; m++) {
		if (modes[m] == MODE_VDSO && vdso.missing) {
			printf("skip exp=callcost mode=vdso reason=%s\n", vdso.missing);
			modes[m--] = modes[--nmodes];
		}
	}
	states = vdso.missing ? NULL : states_alloc(nthreads, &map_bytes);
	if (!vdso.missing && !states)
		die("mapping %d opaque states: %s", nthreads, strerror(errno));

	for (int s = 0; s < nsizes; s++) {
		for (int m = 0; m < nmodes; m++) {
			/* Size the sample so that one thread runs for about sample_ms. */
			struct call_job probe = { .mode = modes[m], .size_bytes = sizes[s], .calls = 2000,
						  .state = states ? states[0] : NULL };
			long calls;

			run_calls(&probe, 1);
			calls = (long)((double)sample_ms * 1e6 * probe.calls / (probe.elapsed_ns + 1));
			if (calls < 100)
				calls = 100;
			/* Interleaving samples would mix warm-up with timing; repeat instead. */
			for (long i = 0; i < nsamples; i++) {
				for (int t = 0; t < nthreads; t++)
					jobs[t] = (struct call_job){ .mode = modes[m], .size_bytes = sizes[s],
								     .calls = calls,
								     .state = states ? states[t] : NULL };
				run_calls(jobs, nthreads);
				for (int t = 0; t < nthreads; t++)
					printf("sample exp=callcost mode=%s size_bytes=%ld threads=%d thread=%d sample=%ld calls=%ld ns_per_call=%.2f\n",
					       mode_names[modes[m]], sizes[s], nthreads, t, i, calls,
					       (double)jobs[t].elapsed_ns / calls);
			}
		}
	}
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------------ */
/* reseed                                                              */

enum reseed_state { WARM, DROPPED, ZEROED, DROPPED_UNREAD };
static const char *const reseed_names[] = { "warm", "dropped", "zeroed", "dropped_unread" };

static int cmd_reseed(int argc, char **argv)
{
	struct opt opts[] = {
		{ "--samples", "10" }, { "--rounds", "2000" }, { "--size-bytes", "4" }, { NULL, NULL },
	};
	long nsamples, rounds, size;
	unsigned char buf[4096];
	void **states;
	size_t map_bytes, state_bytes;
	void *page;

	parse_opts(argc, argv, opts);
	nsamples = opt_long(opts, "--samples", 1, 100000);
	rounds = opt_long(opts, "--rounds", 1, 10000000);
	size = opt_long(opts, "--size-bytes", 1, 4096);
	if (vdso.missing) {
		printf("skip exp=reseed reason=%s\n", vdso.missing);
		return 0;
	}
	states = states_alloc(1, &map_bytes);
	if (!states)
		die("mapping an opaque state: %s", strerror(errno));
	state_bytes = vdso.params.size_of_opaque_state;
	page = (void *)((uintptr_t)states[0] & ~(page_bytes - 1));
	/* The clock's own cost, to be subtracted by whoever reads the data. */
	for (long i = 0; i < nsamples; i++) {
		int64_t sum = 0;

		for (long r = 0; r < rounds; r++) {
			int64_t t0 = now_ns();

			sum += now_ns() - t0;
		}
		printf("sample exp=reseed state=clock size_bytes=0 sample=%ld rounds=%ld ns_per_call=%.2f\n",
		       i, rounds, (double)sum / rounds);
	}
	for (long i = 0; i < nsamples; i++) {
		for (int st = WARM; st <= DROPPED_UNREAD; st++) {
			int64_t sum = 0;

			for (long r = 0; r < rounds; r++) {
				int64_t t0;
				ssize_t ret;

				if (vdso_getrandom(buf, size, states[0]) != size)
					die("vdso getrandom failed");
				if ((st == DROPPED || st == DROPPED_UNREAD) &&
				    madvise(page, page_bytes, MADV_DONTNEED))
					die("madvise(MADV_DONTNEED): %s", strerror(errno));
				if (st == ZEROED)
					memset(states[0], 0, state_bytes);
				if ((st == DROPPED || st == ZEROED) && !all_zero(states[0], state_bytes))
					die("state not zero after %s", reseed_names[st]);
				if (st == DROPPED_UNREAD && page_resident(page))
					die("state page still resident after MADV_DONTNEED");
				t0 = now_ns();
				ret = vdso_getrandom(buf, size, states[0]);
				sum += now_ns() - t0;
				if (ret != size)
					die("vdso getrandom after %s returned %zd", reseed_names[st], ret);
			}
			printf("sample exp=reseed state=%s size_bytes=%ld sample=%ld rounds=%ld ns_per_call=%.2f\n",
			       reseed_names[st], size, i, rounds, (double)sum / rounds);
		}
	}
	munmap(page, map_bytes);
	free(states);
	return 0;
}

/* ------------------------------------------------------------------ */
/* fault: first touch, MAP_LOCKED, mlock, munlock                      */

enum fault_kind {
	F_ANON, F_DROPPABLE, F_MLOCK2_ONFAULT, F_MAP_LOCKED, F_MLOCK, F_MUNLOCK,
	F_DROPPABLE_READ, F_ANON_RW, F_DROPPABLE_RW, F_MLOCK2_ONFAULT_RW,
	F_ANON_REFAULT_RW, F_DROPPABLE_REFAULT_RW, F_DROPPABLE_REFAULT_READ, F_NKINDS
};
static const char *const fault_names[] = {
	"anon", "droppable", "mlock2_onfault", "map_locked", "mlock", "munlock",
	"droppable_read", "anon_rw", "droppable_rw", "mlock2_onfault_rw",
	"anon_refault_rw", "droppable_refault_rw", "droppable_refault_read",
};

static void touch_pages(volatile char *p, long pages)
{
	for (long i = 0; i < pages; i++)
		p[i * page_bytes] = 1;
}

static char read_pages(volatile char *p, long pages)
{
	char sum = 0;

	for (long i = 0; i < pages; i++)
		sum += p[i * page_bytes];
	return sum;
}

/*
 * The vDSO's first access to a state is a read (of state->in_use,
 * lib/vdso/getrandom.c), then a write: on a page that is not there the read
 * maps the shared zero page (do_anonymous_page()) and the write replaces it
 * (do_wp_page()): two faults, not one.
 */
static void read_then_write_pages(volatile char *p, long pages)
{
	for (long i = 0; i < pages; i++) {
		char c = p[i * page_bytes];

		p[i * page_bytes] = c + 1;
	}
}

/* ns per page for one kind, or -errno when the kernel refuses it. */
static double fault_once(enum fault_kind kind, long pages)
{
	size_t len = pages * page_bytes;
	bool droppable = kind == F_DROPPABLE || kind == F_DROPPABLE_READ || kind == F_DROPPABLE_RW ||
			 kind == F_DROPPABLE_REFAULT_RW || kind == F_DROPPABLE_REFAULT_READ;
	int flags = droppable ? MAP_DROPPABLE | MAP_ANONYMOUS : MAP_PRIVATE | MAP_ANONYMOUS;
	int64_t t0, t = 0;
	char *p;

	if (kind == F_MAP_LOCKED) {
		/* MAP_LOCKED populates the whole range inside mmap(). */
		t0 = now_ns();
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_LOCKED, -1, 0);
		t = now_ns() - t0;
		if (p == MAP_FAILED)
			return -errno;
		munmap(p, len);
		return (double)t / pages;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* States are single pages: time 4 KiB faults, not THP ones. */
	madvise(p, len, MADV_NOHUGEPAGE);
	if ((kind == F_MLOCK2_ONFAULT || kind == F_MLOCK2_ONFAULT_RW) &&
	    syscall(SYS_mlock2, p, len, MLOCK_ONFAULT)) {
		t = -errno;
		munmap(p, len);
		return t;
	}
	switch (kind) {
	case F_MLOCK2_ONFAULT:
	case F_ANON:
	case F_DROPPABLE:
		t0 = now_ns();
		touch_pages(p, pages);
		t = now_ns() - t0;
		break;
	case F_DROPPABLE_READ:
		t0 = now_ns();
		sink += read_pages(p, pages);
		t = now_ns() - t0;
		break;
	case F_MLOCK2_ONFAULT_RW:
	case F_ANON_RW:
	case F_DROPPABLE_RW:
		t0 = now_ns();
		read_then_write_pages(p, pages);
		t = now_ns() - t0;
		break;
	case F_ANON_REFAULT_RW:
	case F_DROPPABLE_REFAULT_RW:
	case F_DROPPABLE_REFAULT_READ:
		/*
		 * A state page faulting back alone: its page table is there,
		 * the page was just dropped (MADV_DONTNEED, as reclaim would),
		 * and each fault is timed by itself (one clock pair each, about
		 * 23 ns, included), not pipelined with its neighbours'.
		 */
		touch_pages(p, pages);
		for (long i = 0; i < pages; i++) {
			volatile char *q = p + i * page_bytes;

			if (madvise(p + i * page_bytes, page_bytes, MADV_DONTNEED)) {
				t = -errno;
				break;
			}
			t0 = now_ns();
			if (kind == F_DROPPABLE_REFAULT_READ) {
				sink += q[0];
			} else {
				char c = q[0];

				q[0] = c + 1;
			}
			t += now_ns() - t0;
		}
		break;
	case F_MLOCK:
	case F_MUNLOCK:
		touch_pages(p, pages);
		t0 = now_ns();
		if (mlock(p, len)) {
			t = -errno;
			break;
		}
		t = now_ns() - t0;
		if (kind == F_MUNLOCK) {
			t0 = now_ns();
			if (munlock(p, len))
				die("munlock: %s", strerror(errno));
			t = now_ns() - t0;
		}
		break;
	default:
		die("internal: fault kind %d", kind);
	}
	munmap(p, len);
	return t < 0 ? t : (double)t / pages;
}

static int cmd_fault(int argc, char **argv)
{
	struct opt opts[] = { { "--pages", "4096" }, { "--samples", "10" }, { NULL, NULL } };
	long pages, nsamples;
	bool skipped[F_NKINDS] = { false };

	parse_opts(argc, argv, opts);
	pages = opt_long(opts, "--pages", 1, 1L << 28);
	nsamples = opt_long(opts, "--samples", 1, 100000);
	for (long i = 0; i < nsamples; i++) {
		for (int k = 0; k < F_NKINDS; k++) {
			double ns;

			if (skipped[k])
				continue;
			ns = fault_once(k, pages);
			if (ns < 0) {
				printf("skip exp=fault kind=%s reason=%s\n", fault_names[k], strerrorname_np((int)-ns) ?: "error");
				skipped[k] = true;
				continue;
			}
			printf("sample exp=fault kind=%s pages=%ld sample=%ld ns_per_page=%.2f\n",
			       fault_names[k], pages, i, ns);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* pressure: a droppable (or locked) holder and a hog in one memcg     */

enum hold_kind { HOLD_DROPPABLE, HOLD_LOCKED, HOLD_ANON, HOLD_VDSO, HOLD_FILE };
static const char *const hold_names[] = { "droppable", "locked", "anon", "vdso", "file" };

static int churn_file_create(const char *dir, long mib, const char **reason);

enum touch { TOUCH_COLD, TOUCH_HOT, TOUCH_WRITE };
static const char *const touch_names[] = { "cold", "hot", "write" };

struct holder_cfg {
	enum hold_kind kind;
	long pages;
	enum touch touch;
	long hot_ms;
	int readers;		/* sweeping threads; more than one: pinned a CPU each */
	bool tlb_flush;		/* flush the region's TLB entries after every sweep */
	const char *file_dir;	/* kind=file: where its (unnamed) file lives */
	bool swap;		/* the memcg may swap (guests with zram, issue 13) */
};

static void memcg_allow_swap(const struct memcg *cg);

struct hot_arg {
	char *p;
	long pages;
	long period_ns;
	int cpu;		/* -1: wherever the scheduler puts it */
	bool write, tlb_flush;
	int prot, flush_prot;	/* the region's protection; the one a flush drops to */
	struct shared *sh;
};

/*
 * Keeps the region referenced, as a busy process's states would be: reads
 * one byte of every page (touch=hot), or writes it (touch=write, as a vDSO
 * call writes its state) with a lock cmpxchg 0 -> 0x5a, which writes
 * whatever it finds and tells a page that reads zero, dropped since the
 * last sweep and now faulted in fresh (and charged), from a kept one.
 *
 * tlb_flush: x86's ptep_clear_flush_young() clears a PTE's accessed bit
 * without a TLB flush, and a CPU that still caches the translation reads
 * through it without setting the bit again.  mprotect() to read-only
 * (kind=file: to PROT_NONE) changes every PTE and flushes the range on
 * every CPU of the mm (change_protection() via the mmu_gather); back to
 * read-write (file: read) restores them.  After a flush every read of the next sweep walks the page table
 * and sets the bit, as a reader with no cached translation would.
 */
static void *hot_thread(void *arg)
{
	struct hot_arg *h = arg;
	size_t len = h->pages * page_bytes;

	if (h->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(h->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			_exit(93);
	}
	while (!load(&h->sh->hot_stop)) {
		long fresh = 0;

		for (long i = 0; i < h->pages; i++) {
			char zero = 0;

			if (h->write)
				fresh += __atomic_compare_exchange_n(&h->p[i * page_bytes], &zero, 0x5a, false,
								     __ATOMIC_RELAXED, __ATOMIC_RELAXED);
			else
				(void)*(volatile char *)&h->p[i * page_bytes];
		}
		if (h->tlb_flush && (mprotect(h->p, len, h->flush_prot) || mprotect(h->p, len, h->prot)))
			_exit(92);
		__atomic_add_fetch(&h->sh->write_refaults, fresh, __ATOMIC_RELAXED);
		__atomic_add_fetch(&h->sh->sweeps, 1, __ATOMIC_RELAXED);
		sleep_ns(h->period_ns);
	}
	return NULL;
}

static void __attribute__((noreturn)) holder_main(struct shared *sh, const struct memcg *cg,
						  const struct holder_cfg *cfg, int64_t deadline)
{
	size_t len = cfg->pages * page_bytes;
	int flags = cfg->kind == HOLD_DROPPABLE ? MAP_DROPPABLE | MAP_ANONYMOUS
						: MAP_PRIVATE | MAP_ANONYMOUS;
	int prot = PROT_READ | PROT_WRITE, fd = -1;
	struct hot_arg h[MAX_READERS];
	pthread_t tid[MAX_READERS];
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	const char *reason;
	long dropped = 0;
	char *p;

	/* vdso: whatever the kernel tells libc to map its states with. */
	if (cfg->kind == HOLD_VDSO)
		flags = vdso.params.mmap_flags;
	/*
	 * file: clean page cache, whose reclaim shrink_folio_list() counts,
	 * beside droppable folios, whose reclaim it does not.  Written outside
	 * the memcg and evicted, so that the reads below charge it.
	 */
	if (cfg->kind == HOLD_FILE) {
		fd = churn_file_create(cfg->file_dir, cfg->pages / (MIB / page_bytes), &reason);
		if (fd < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
			_exit(91);
		flags = MAP_SHARED;
		prot = PROT_READ;
	}
	memcg_enter(cg);
	p = mmap(NULL, len, prot, flags, fd, 0);
	if (p == MAP_FAILED)
		_exit(97);
	madvise(p, len, MADV_NOHUGEPAGE);
	if (cfg->kind == HOLD_LOCKED && mlock(p, len))
		_exit(96);
	for (long i = 0; i < cfg->pages; i++) {
		if (cfg->kind == HOLD_FILE)
			(void)*(volatile char *)&p[i * page_bytes];
		else
			p[i * page_bytes] = 0x5a;
	}
	for (int r = 0; cfg->touch != TOUCH_COLD && r < cfg->readers; r++) {
		h[r] = (struct hot_arg){ .p = p, .pages = cfg->pages,
					 .period_ns = cfg->hot_ms * 1000000L,
					 .cpu = cfg->readers > 1 ? r % ncpus : -1,
					 .write = cfg->touch == TOUCH_WRITE,
					 .tlb_flush = cfg->tlb_flush, .prot = prot,
					 .flush_prot = prot == PROT_READ ? PROT_NONE : PROT_READ,
					 .sh = sh };
		if (pthread_create(&tid[r], NULL, hot_thread, &h[r]))
			_exit(95);
	}
	store(&sh->holder_ready, 1);
	child_wait_stage(sh, STAGE_COUNT, deadline);
	if (cfg->touch != TOUCH_COLD) {
		store(&sh->hot_stop, 1);
		for (int r = 0; r < cfg->readers; r++)
			pthread_join(tid[r], NULL);
	}
	/* Before the count below reads them back in. */
	sh->holder_vmswap_kib = status_kib(getpid(), "VmSwap:");
	for (long i = 0; i < cfg->pages; i++) {
		unsigned char vec = 1;

		/* A file page read back is not zero: ask whether it is still resident. */
		if (cfg->kind == HOLD_FILE)
			dropped += !mincore(p + i * page_bytes, page_bytes, &vec) && !(vec & 1);
		else
			dropped += p[i * page_bytes] == 0;
	}
	sh->dropped_pages = dropped;
	store(&sh->holder_done, 1);
	child_wait_stage(sh, STAGE_EXIT, deadline);
	_exit(0);
}

static void __attribute__((noreturn)) hog_main(struct shared *sh, const struct memcg *cg,
					       long pages, int64_t deadline)
{
	int64_t t0;
	char *p;

	memcg_enter(cg);
	p = mmap(NULL, pages * page_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(97);
	madvise(p, pages * page_bytes, MADV_NOHUGEPAGE);
	__atomic_add_fetch(&sh->hog_ready, 1, __ATOMIC_ACQ_REL);
	child_wait_stage(sh, STAGE_HOG_GO, deadline);
	t0 = now_ns();
	touch_pages(p, pages);
	sh->hog_fill_ns = now_ns() - t0;
	__atomic_add_fetch(&sh->hog_done, 1, __ATOMIC_ACQ_REL);
	child_wait_stage(sh, STAGE_EXIT, deadline);
	_exit(0);
}

static void pressure_once(long sample, long limit_mib, long hog_mib, long hold_ms,
			  const struct holder_cfg *cfg, long timeout_s)
{
	int64_t deadline = now_ns() + timeout_s * NS_PER_S;
	struct child kids[2] = { 0 };	/* holder, hog */
	struct counters before, after;
	struct shared *sh = shared_map();
	char extra[COUNTERS_TEXT], dropped[64], fill[32], swapped[32], fresh[32];
	const char *reason, *outcome = "ok";
	struct memcg cg;

	if (!memcg_create(&cg, (long long)limit_mib * MIB, &reason)) {
		printf("skip exp=pressure reason=%s\n", reason);
		munmap(sh, page_bytes);
		return;
	}
	if (cfg->swap)
		memcg_allow_swap(&cg);
	if (!spawn(&kids[0]))
		holder_main(sh, &cg, cfg, deadline);
	if (!parent_wait(&sh->holder_ready, 1, kids, 1, deadline))
		outcome = kids[0].reaped ? "holder_died_filling" : "timeout_holder";
	counters_read(&cg, &before);
	if (!spawn(&kids[1]))
		hog_main(sh, &cg, hog_mib * (MIB / page_bytes), deadline);
	if (!parent_wait(&sh->hog_ready, 1, kids + 1, 1, deadline) && !strcmp(outcome, "ok"))
		outcome = "timeout_hog_start";
	store(&sh->stage, STAGE_HOG_GO);
	/* The holder may die first (locked, OOM): the hog's fill still counts. */
	if (!parent_wait(&sh->hog_done, 1, kids + 1, 1, deadline) && !strcmp(outcome, "ok"))
		outcome = now_ns() >= deadline ? "timeout_hog_fill" : "ok";
	sleep_ns(hold_ms * 1000000L);
	counters_read(&cg, &after);
	store(&sh->stage, STAGE_COUNT);
	if (!parent_wait(&sh->holder_done, 1, kids, 1, deadline) && !strcmp(outcome, "ok"))
		outcome = kids[0].reaped ? "ok" : "timeout_count";
	store(&sh->stage, STAGE_EXIT);
	for (int i = 0; i < 2; i++)
		child_wait(&kids[i], now_ns() + REAP_NS);
	memcg_destroy(&cg);
	counters_format(extra, sizeof(extra), &cg, &before, &after);
	if (load(&sh->holder_done))
		snprintf(dropped, sizeof(dropped), "dropped_pages=%ld drop_fraction=%.4f",
			 sh->dropped_pages, (double)sh->dropped_pages / cfg->pages);
	else
		snprintf(dropped, sizeof(dropped), "dropped_pages=na drop_fraction=na");
	printf("sample exp=pressure kind=%s touch=%s limit_mib=%ld droppable_mib=%ld hog_mib=%ld sample=%ld pages=%ld %s holder_vmswap_kib=%s hog_fill_ns=%s holder=%s hog=%s outcome=%s hot_ms=%ld readers=%d tlb_flush=%s sweeps=%ld write_refaults=%s swap=%s%s\n",
	       hold_names[cfg->kind], touch_names[cfg->touch], limit_mib,
	       (long)(cfg->pages * page_bytes / MIB), hog_mib, sample, cfg->pages, dropped,
	       num_or_na(swapped, sizeof(swapped), load(&sh->holder_done) && sh->holder_vmswap_kib >= 0,
			 sh->holder_vmswap_kib),
	       num_or_na(fill, sizeof(fill), load(&sh->hog_done), sh->hog_fill_ns),
	       child_fate(&kids[0]), child_fate(&kids[1]), outcome,
	       cfg->touch == TOUCH_COLD ? 0 : cfg->hot_ms, cfg->touch == TOUCH_COLD ? 0 : cfg->readers,
	       cfg->tlb_flush ? "sweep" : "none", __atomic_load_n(&sh->sweeps, __ATOMIC_ACQUIRE),
	       num_or_na(fresh, sizeof(fresh), cfg->touch == TOUCH_WRITE,
			 __atomic_load_n(&sh->write_refaults, __ATOMIC_ACQUIRE)),
	       cfg->swap ? "on" : "off", extra);
	fflush(stdout);
	munmap(sh, page_bytes);
}

/*
 * The largest region of at most `pages` that mmap() grants with the flags
 * the vDSO reports, by bisection; 0 if not one page.  On the exempt kernel
 * (0003) a process may keep only a few MAP_UNEVICTABLE pages (the vDSO
 * states of its threads) and mmap() fails with ENOMEM past them.
 */
static long vdso_pages_within_budget(long pages)
{
	long fit = 0, over = pages + 1;

	while (over - fit > 1) {
		long mid = fit + (over - fit) / 2;
		void *p = mmap(NULL, mid * page_bytes, vdso.params.mmap_prot, vdso.params.mmap_flags,
			       -1, 0);

		if (p != MAP_FAILED) {
			munmap(p, mid * page_bytes);
			fit = mid;
		} else if (errno == ENOMEM) {
			over = mid;
		} else {
			die("mmap of %ld vdso state pages: %s", mid, strerror(errno));
		}
	}
	return fit;
}

static int cmd_pressure(int argc, char **argv)
{
	struct opt opts[] = {
		{ "--limit-mib", "256" }, { "--droppable-mib", "32" }, { "--hog-mib", "256" },
		{ "--kind", "droppable" }, { "--touch", "cold" }, { "--hot-ms", "10" },
		{ "--readers", "1" }, { "--tlb-flush", "none" }, { "--file-dir", "/tmp" },
		{ "--hold-ms", "100" }, { "--samples", "1" }, { "--timeout-s", "60" },
		{ "--swap", "off" }, { NULL, NULL },
	};
	struct holder_cfg cfg = { 0 };
	long limit_mib, hog_mib, hold_ms, nsamples, timeout_s;
	const char *kind, *touch, *flush, *swap;

	parse_opts(argc, argv, opts);
	limit_mib = opt_long(opts, "--limit-mib", 1, 1L << 20);
	cfg.pages = opt_long(opts, "--droppable-mib", 1, 1L << 20) * (MIB / page_bytes);
	hog_mib = opt_long(opts, "--hog-mib", 0, 1L << 20);
	cfg.hot_ms = opt_long(opts, "--hot-ms", 1, 60000);
	hold_ms = opt_long(opts, "--hold-ms", 0, 600000);
	nsamples = opt_long(opts, "--samples", 1, 10000);
	timeout_s = opt_long(opts, "--timeout-s", 1, 3600);
	kind = opt_get(opts, "--kind");
	for (cfg.kind = HOLD_DROPPABLE; cfg.kind <= HOLD_FILE; cfg.kind++)
		if (!strcmp(kind, hold_names[cfg.kind]))
			break;
	if (cfg.kind > HOLD_FILE)
		usage_error("--kind", kind);
	cfg.file_dir = opt_get(opts, "--file-dir");
	if (cfg.kind == HOLD_VDSO && vdso.missing) {
		printf("skip exp=pressure kind=vdso reason=%s\n", vdso.missing);
		return 0;
	}
	cfg.readers = opt_long(opts, "--readers", 1, MAX_READERS);
	touch = opt_get(opts, "--touch");
	for (cfg.touch = TOUCH_COLD; cfg.touch <= TOUCH_WRITE; cfg.touch++)
		if (!strcmp(touch, touch_names[cfg.touch]))
			break;
	if (cfg.touch > TOUCH_WRITE)
		usage_error("--touch", touch);
	flush = opt_get(opts, "--tlb-flush");
	if (strcmp(flush, "none") && strcmp(flush, "sweep"))
		usage_error("--tlb-flush", flush);
	cfg.tlb_flush = !strcmp(flush, "sweep");
	swap = opt_get(opts, "--swap");
	if (strcmp(swap, "on") && strcmp(swap, "off"))
		usage_error("--swap", swap);
	cfg.swap = !strcmp(swap, "on");
	if (cfg.tlb_flush && cfg.touch == TOUCH_COLD)
		usage_error("--tlb-flush sweep needs --touch hot or write", touch);
	if (cfg.kind == HOLD_FILE && cfg.touch == TOUCH_WRITE)
		usage_error("--touch write needs a writable --kind", kind);
	/* A writer (or a file reader) would fault in another's flush window. */
	if (cfg.tlb_flush && (cfg.touch == TOUCH_WRITE || cfg.kind == HOLD_FILE) && cfg.readers > 1)
		usage_error("--tlb-flush sweep with --touch write or --kind file needs --readers 1",
			    opt_get(opts, "--readers"));
	if (cfg.kind == HOLD_DROPPABLE && droppable_missing()) {
		printf("skip exp=pressure kind=droppable reason=%s\n", droppable_missing());
		return 0;
	}
	if (cfg.kind == HOLD_VDSO && !vdso_states_droppable()) {
		long fit = vdso_pages_within_budget(cfg.pages);

		printf("# pressure: kind=vdso mmap_flags=%#x pages_asked=%ld pages_within_budget=%ld\n",
		       vdso.params.mmap_flags, cfg.pages, fit);
		if (!fit) {
			printf("skip exp=pressure kind=vdso reason=vdso_state_budget_exhausted\n");
			return 0;
		}
		cfg.pages = fit;
	}
	for (long i = 0; i < nsamples; i++)
		pressure_once(i, limit_mib, hog_mib, hold_ms, &cfg, timeout_s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* oomtouch: a fresh droppable page when the memcg has nothing to give */

enum victims { V_ANY, V_TOUCHER, V_NONE };
static const char *const victim_names[] = { "any", "toucher", "none" };

static void __attribute__((noreturn)) toucher_main(struct shared *sh, const struct memcg *cg,
						   long pages, int64_t deadline)
{
	size_t len = pages * page_bytes;
	long lost = 0;
	int64_t t0;
	char *p;

	memcg_enter(cg);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(97);
	madvise(p, len, MADV_NOHUGEPAGE);
	/*
	 * Fault the page tables in now and give the pages back: later only
	 * the data pages themselves need a charge.
	 */
	touch_pages(p, pages);
	if (madvise(p, len, MADV_DONTNEED))
		_exit(96);
	sh->touched_pages = 0;
	store(&sh->holder_ready, 1);
	child_wait_stage(sh, STAGE_TOUCH, deadline);
	t0 = now_ns();
	for (long i = 0; i < pages; i++) {
		p[i * page_bytes] = 0x5a;
		__atomic_store_n(&sh->touched_pages, i + 1, __ATOMIC_RELEASE);
	}
	sh->touch_ns = now_ns() - t0;
	for (long i = 0; i < pages; i++)
		lost += p[i * page_bytes] != 0x5a;
	sh->lost_writes = lost;
	store(&sh->holder_done, 1);
	child_wait_stage(sh, STAGE_EXIT, deadline);
	_exit(0);
}

static int set_oom_score_adj(pid_t pid, int adj)
{
	char path[64], val[16];

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
	snprintf(val, sizeof(val), "%d", adj);
	return write_str(path, val);
}

/*
 * Leave the OOM killer nobody to take.  Lowering oom_score_adj needs
 * CAP_SYS_RESOURCE, which a container may lack; v1 can switch the
 * killer off for the memcg instead (its tasks then wait in the charge).
 * Returns how, or NULL.
 */
static const char *forbid_oom_kill(const struct memcg *cg, struct child *kids, int n)
{
	char file[PATH_MAX];
	int err = 0;

	for (int i = 0; i < n && !err; i++)
		err = set_oom_score_adj(kids[i].pid, -1000);
	if (!err)
		return "oom_score_adj";
	if (err != -EACCES && err != -EPERM)
		die("oom_score_adj: %s", strerror(-err));
	if (cg->v2)
		return NULL;
	snprintf(file, sizeof(file), "%s/memory.oom_control", cg->path);
	return write_str(file, "1") ? NULL : "oom_kill_disable";
}

static void oomtouch_once(long sample, long hog_mib, int nhogs, long touch_pages_n,
			  enum victims victims, long watchdog_s)
{
	int64_t deadline = now_ns() + (watchdog_s + 30) * NS_PER_S, t_touch;
	struct child kids[MAX_CHILDREN] = { 0 };	/* toucher, hogs */
	struct shared *sh = shared_map();
	struct counters before, after;
	int nkids = 1 + nhogs, hogs_killed = 0;
	long long usage, limit = -1, headroom = -1;
	int err;
	long minflt0, minflt1 = -1;
	char state = '?', extra[COUNTERS_TEXT], lost[32], flt[32];
	const char *reason, *outcome, *no_kill_by = "na";
	struct memcg cg = { 0 };

	/* Room for everything at first; the squeeze comes after the fill. */
	if (!memcg_create(&cg, (long long)(hog_mib + 64) * MIB, &reason)) {
		printf("skip exp=oomtouch reason=%s\n", reason);
		munmap(sh, page_bytes);
		return;
	}
	if (!spawn(&kids[0]))
		toucher_main(sh, &cg, touch_pages_n, deadline);
	/* Several hogs: none then outweighs a toucher whose score is raised. */
	for (int i = 1; i < nkids; i++)
		if (!spawn(&kids[i]))
			hog_main(sh, &cg, hog_mib * (MIB / page_bytes) / nhogs, deadline);
	if (!parent_wait(&sh->holder_ready, 1, kids, 1, deadline) ||
	    !parent_wait(&sh->hog_ready, nhogs, kids + 1, nhogs, deadline))
		die("oomtouch: children did not start");
	store(&sh->stage, STAGE_HOG_GO);
	if (!parent_wait(&sh->hog_done, nhogs, kids + 1, nhogs, deadline))
		die("oomtouch: hogs did not fill %ld MiB", hog_mib);
	if (victims == V_TOUCHER && (err = set_oom_score_adj(kids[0].pid, 1000)))
		die("oom_score_adj: %s", strerror(-err));
	if (victims == V_NONE && !(no_kill_by = forbid_oom_kill(&cg, kids, nkids))) {
		printf("skip exp=oomtouch victims=none reason=cannot_forbid_oom_kill\n");
		store(&sh->stage, STAGE_EXIT);
		for (int i = 0; i < nkids; i++)
			child_kill(&kids[i]);
		memcg_destroy(&cg);
		munmap(sh, page_bytes);
		return;
	}
	/*
	 * Lower the limit to what is charged now.  The hog's anon cannot be
	 * swapped and nothing droppable is resident, so the limit can only
	 * land where the usage is; charges in flight may need a retry.
	 */
	for (int tries = 0; tries < 100; tries++) {
		usage = memcg_usage(&cg);
		limit = (usage + page_bytes - 1) / page_bytes * page_bytes;
		if (!memcg_set_limit(&cg, limit))
			break;
		limit = -1;
	}
	if (limit < 0)
		die("oomtouch: cannot lower the limit to the usage (%lld bytes)", usage);
	headroom = limit - memcg_usage(&cg);
	counters_read(&cg, &before);
	minflt0 = proc_minflt(kids[0].pid, &state);
	t_touch = now_ns();
	store(&sh->stage, STAGE_TOUCH);
	/* Watch only the toucher: a hog may be killed while it goes on. */
	if (parent_wait(&sh->holder_done, 1, kids, 1, t_touch + watchdog_s * NS_PER_S))
		outcome = "completed";
	else if (kids[0].reaped)
		outcome = "toucher_died";
	else {
		outcome = "stalled";
		minflt1 = proc_minflt(kids[0].pid, &state);
	}
	t_touch = now_ns() - t_touch;
	counters_read(&cg, &after);
	store(&sh->stage, STAGE_EXIT);
	for (int i = 0; i < nkids; i++) {
		/* A stalled toucher will not exit by itself: kill at once. */
		child_wait(&kids[i], now_ns() + (strcmp(outcome, "completed") ? 0 : REAP_NS));
		hogs_killed += i && !strcmp(child_fate(&kids[i]), "oom_killed");
	}
	memcg_destroy(&cg);
	counters_format(extra, sizeof(extra), &cg, &before, &after);
	printf("sample exp=oomtouch hogs=%d victims=%s no_kill_by=%s hog_mib=%ld pages=%ld sample=%ld headroom_bytes=%lld outcome=%s touched_pages=%ld lost_writes=%s elapsed_ns=%lld watchdog_s=%ld minflt_while_stalled=%s toucher_state=%c toucher=%s hogs_oom_killed=%d%s\n",
	       nhogs, victim_names[victims], no_kill_by, hog_mib, touch_pages_n, sample, headroom, outcome,
	       __atomic_load_n(&sh->touched_pages, __ATOMIC_ACQUIRE),
	       num_or_na(lost, sizeof(lost), load(&sh->holder_done), sh->lost_writes),
	       (long long)t_touch, watchdog_s,
	       num_or_na(flt, sizeof(flt), minflt1 >= 0 && minflt0 >= 0, minflt1 - minflt0),
	       state, child_fate(&kids[0]), hogs_killed, extra);
	fflush(stdout);
	munmap(sh, page_bytes);
}

static int cmd_oomtouch(int argc, char **argv)
{
	struct opt opts[] = {
		{ "--hog-mib", "64" }, { "--pages", "1024" }, { "--victims", "any" },
		{ "--watchdog-s", "5" }, { "--samples", "1" }, { "--hogs", "4" }, { NULL, NULL },
	};
	long hog_mib, pages, watchdog_s, nsamples, nhogs;
	const char *v;
	int victims;

	parse_opts(argc, argv, opts);
	hog_mib = opt_long(opts, "--hog-mib", 1, 1L << 20);
	pages = opt_long(opts, "--pages", 1, 1L << 20);
	watchdog_s = opt_long(opts, "--watchdog-s", 1, 3600);
	nsamples = opt_long(opts, "--samples", 1, 10000);
	nhogs = opt_long(opts, "--hogs", 1, MAX_HOGS);
	v = opt_get(opts, "--victims");
	for (victims = V_ANY; victims <= V_NONE; victims++)
		if (!strcmp(v, victim_names[victims]))
			break;
	if (victims > V_NONE)
		usage_error("--victims", v);
	if (droppable_missing()) {
		printf("skip exp=oomtouch reason=%s\n", droppable_missing());
		return 0;
	}
	for (long i = 0; i < nsamples; i++)
		oomtouch_once(i, hog_mib, nhogs, pages, victims, watchdog_s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* fork: wipe-on-fork and mlock inheritance                            */

static int cmd_fork(int argc, char **argv)
{
	struct opt opts[] = { { "--pages", "16" }, { NULL, NULL } };
	unsigned char buf[16];
	long pages;
	void **states;
	size_t map_bytes, len;
	struct child c;
	long parent_kib, before_kib;
	char *p;

	parse_opts(argc, argv, opts);
	pages = opt_long(opts, "--pages", 1, 1L << 20);
	len = pages * page_bytes;

	if (vdso.missing) {
		printf("skip exp=fork check=droppable_wiped reason=%s\n", vdso.missing);
	} else if (!(states = states_alloc(1, &map_bytes))) {
		printf("skip exp=fork check=droppable_wiped reason=%s\n", strerrorname_np(errno) ?: "mmap");
	} else {
		size_t n = vdso.params.size_of_opaque_state;
		long nonzero = 0;
		struct shared *sh = shared_map();

		if (vdso_getrandom(buf, sizeof(buf), states[0]) != sizeof(buf))
			die("vdso getrandom failed");
		for (size_t i = 0; i < n; i++)
			nonzero += ((unsigned char *)states[0])[i] != 0;
		if (!spawn(&c)) {
			long child_nonzero = 0;

			for (size_t i = 0; i < n; i++)
				child_nonzero += ((unsigned char *)states[0])[i] != 0;
			sh->child_nonzero_bytes = child_nonzero;
			sh->child_call_ok = vdso_getrandom(buf, sizeof(buf), states[0]) == sizeof(buf);
			_exit(0);
		}
		child_wait(&c, now_ns() + CHILD_NS);
		if (!WIFEXITED(c.status) || WEXITSTATUS(c.status))
			die("fork child ended with status %#x", c.status);
		printf("sample exp=fork check=droppable_wiped state_bytes=%zu parent_nonzero_bytes=%ld child_nonzero_bytes=%ld child_call_ok=%ld\n",
		       n, nonzero, sh->child_nonzero_bytes, sh->child_call_ok);
		munmap(sh, page_bytes);
		munmap((void *)((uintptr_t)states[0] & ~(page_bytes - 1)), map_bytes);
		free(states);
	}

	/* mlock over fork: dup_mmap() clears VM_LOCKED in the child. */
	before_kib = status_kib(getpid(), "VmLck:");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	if (mlock(p, len)) {
		printf("skip exp=fork check=mlock_inherit reason=%s\n", strerrorname_np(errno) ?: "mlock");
	} else {
		struct shared *sh = shared_map();

		parent_kib = status_kib(getpid(), "VmLck:") - before_kib;
		if (!spawn(&c)) {
			sh->child_vmlck_kib = status_kib(getpid(), "VmLck:");
			_exit(0);
		}
		child_wait(&c, now_ns() + CHILD_NS);
		if (!WIFEXITED(c.status) || WEXITSTATUS(c.status))
			die("fork child ended with status %#x", c.status);
		printf("sample exp=fork check=mlock_inherit pages=%ld parent_vmlck_kib=%ld child_vmlck_kib=%ld\n",
		       pages, parent_kib, sh->child_vmlck_kib);
		munmap(sh, page_bytes);
	}
	munmap(p, len);

	/* mlock on a droppable mapping: the kernel must not lock it. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("skip exp=fork check=droppable_mlock reason=%s\n", strerrorname_np(errno) ?: "mmap");
	} else {
		int rc;

		touch_pages(p, pages);
		before_kib = status_kib(getpid(), "VmLck:");
		rc = mlock(p, len) ? errno : 0;
		printf("sample exp=fork check=droppable_mlock pages=%ld mlock_errno=%s vmlck_kib=%ld\n",
		       pages, rc ? strerrorname_np(rc) : "0", status_kib(getpid(), "VmLck:") - before_kib);
		munmap(p, len);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* memlock: opaque states under RLIMIT_MEMLOCK                         */

/* Root ignores RLIMIT_MEMLOCK through CAP_IPC_LOCK: give it up. */
static void drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		_exit(94);
	data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	data[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
	if (syscall(SYS_capset, &hdr, data))
		_exit(93);
}

struct memlock_result {
	int droppable_errno;		/* mlock of half the limit, droppable */
	long droppable_vmlck_kib;
	long pages_locked;		/* then anon, a page at a time */
	int errno_past;
	long vmlck_kib;
	int map_locked_errno;		/* one more page with MAP_LOCKED */
	int droppable_past_errno;	/* one more droppable page */
};

static void memlock_child(long limit_bytes, long max_pages, struct memlock_result *r)
{
	struct rlimit rl = { .rlim_cur = limit_bytes, .rlim_max = limit_bytes };
	size_t len = max_pages * page_bytes, half = limit_bytes / 2 / page_bytes * page_bytes;
	char *p, *q, *d;

	drop_cap_ipc_lock();
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		_exit(92);
	/*
	 * mlock() on a droppable mapping succeeds but locks nothing
	 * (VM_LOCKED is never set there): VmLck must not move, and the
	 * whole limit must still be there for the anon pages after it.
	 */
	d = mmap(NULL, half + page_bytes, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	r->droppable_errno = d == MAP_FAILED ? errno : 0;
	r->droppable_vmlck_kib = -1;
	if (d != MAP_FAILED && half) {
		long before = status_kib(getpid(), "VmLck:");

		r->droppable_errno = mlock(d, half) ? errno : 0;
		r->droppable_vmlck_kib = status_kib(getpid(), "VmLck:") - before;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(91);
	/* One page of states at a time, as an allocator growing by need would. */
	r->errno_past = 0;
	for (r->pages_locked = 0; r->pages_locked < max_pages; r->pages_locked++) {
		if (mlock(p + r->pages_locked * page_bytes, page_bytes)) {
			r->errno_past = errno;
			break;
		}
	}
	r->vmlck_kib = status_kib(getpid(), "VmLck:");
	q = mmap(NULL, page_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	r->map_locked_errno = q == MAP_FAILED ? errno : 0;
	/* The rlimit check counts the request, locked or not. */
	r->droppable_past_errno = d == MAP_FAILED ? r->droppable_errno :
				  mlock(d + half, page_bytes) ? errno : 0;
	_exit(0);
}

static const char *errname(int e)
{
	return e ? strerrorname_np(e) ?: "unknown" : "0";
}

static int cmd_memlock(int argc, char **argv)
{
	struct opt opts[] = { { "--limit-bytes", "8388608,65536" }, { NULL, NULL } };
	long limits[MAX_SIZES];
	int n;
	size_t state_bytes = vdso.missing ? 144 : vdso.params.size_of_opaque_state;
	const char *state_src = vdso.missing ? "assumed" : "vdso";

	parse_opts(argc, argv, opts);
	n = parse_list("--limit-bytes", opt_get(opts, "--limit-bytes"), limits, MAX_SIZES, 0, 1L << 40);
	for (int i = 0; i < n; i++) {
		struct shared *sh = shared_map();
		struct memlock_result *r = (void *)sh;
		long max_pages = limits[i] / page_bytes + 16;
		long per_page = page_bytes / state_bytes;
		struct child c;

		if (!spawn(&c))
			memlock_child(limits[i], max_pages, r);
		child_wait(&c, now_ns() + CHILD_NS);
		if (!WIFEXITED(c.status) || WEXITSTATUS(c.status))
			die("memlock child for limit %ld ended with status %#x", limits[i], c.status);
		printf("sample exp=memlock limit_bytes=%ld state_bytes=%zu state_bytes_from=%s states_per_page=%ld droppable_half_mlock_errno=%s droppable_half_vmlck_kib=%ld pages_locked=%ld states_locked=%ld vmlck_kib=%ld mlock_errno_past_limit=%s map_locked_errno_past_limit=%s droppable_mlock_errno_past_limit=%s\n",
		       limits[i], state_bytes, state_src, per_page, errname(r->droppable_errno),
		       r->droppable_vmlck_kib, r->pages_locked, r->pages_locked * per_page, r->vmlck_kib,
		       r->pages_locked < max_pages ? errname(r->errno_past) : "none_within_bound",
		       errname(r->map_locked_errno), errname(r->droppable_past_errno));
		munmap(sh, page_bytes);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* statemem: how each design's state pages are locked and charged      */

#ifndef MAP_UNEVICTABLE
#define MAP_UNEVICTABLE 0x09	/* kernel-patches/patches/0003 */
#endif
#ifndef MLOCK_INHERIT
#define MLOCK_INHERIT 0x02	/* kernel-patches/patches/0002 */
#endif

enum state_kind { SK_ANON, SK_DROPPABLE, SK_MLOCK, SK_MLOCK_INHERIT, SK_UNEVICTABLE, SK_VDSO };
static const char *const state_kind_names[] = {
	"anon", "droppable", "mlock", "mlock_inherit", "unevictable", "vdso",
};

struct statemem_result {
	long child_kept_pages;		/* pages the child still read as non-zero */
	long child_vmlck_kib;		/* after the child touched every page */
	long long child_mlocked_kib;	/* Mlocked: growth from the child's touches */
	long pages_under_limit;		/* unprivileged, one page at a time */
	int errno_past_limit;
};

/*
 * Map state pages the way a design asks for them.  The userspace-only
 * designs add by hand what MAP_DROPPABLE implies: wipe on fork, no dump,
 * then lock on fault (with MLOCK_INHERIT for mlock_inherit).
 */
static char *state_map(enum state_kind kind, size_t len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS, lock_flags = -1, err;
	char *p;

	switch (kind) {
	case SK_DROPPABLE:
		flags = MAP_DROPPABLE | MAP_ANONYMOUS;
		break;
	case SK_UNEVICTABLE:
		flags = MAP_UNEVICTABLE | MAP_ANONYMOUS;
		break;
	case SK_VDSO:
		flags = vdso.params.mmap_flags;
		break;
	case SK_MLOCK:
		lock_flags = MLOCK_ONFAULT;
		break;
	case SK_MLOCK_INHERIT:
		lock_flags = MLOCK_ONFAULT | MLOCK_INHERIT;
		break;
	case SK_ANON:
		break;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (lock_flags >= 0 && (madvise(p, len, MADV_WIPEONFORK) || madvise(p, len, MADV_DONTDUMP) ||
				mlock2(p, len, lock_flags))) {
		err = errno;
		munmap(p, len);
		errno = err;
		return NULL;
	}
	return p;
}

static long long meminfo_kib(const char *field)
{
	return read_keyed("/proc/meminfo", field);
}

static long count_nonzero_pages(const volatile char *p, long pages)
{
	long n = 0;

	for (long i = 0; i < pages; i++)
		n += p[i * page_bytes] != 0;
	return n;
}

static void __attribute__((noreturn)) statemem_fork_child(char *p, long pages,
							  struct statemem_result *r)
{
	long long mlocked0;

	r->child_kept_pages = count_nonzero_pages(p, pages);
	mlocked0 = meminfo_kib("Mlocked:");
	touch_pages(p, pages);
	r->child_vmlck_kib = status_kib(getpid(), "VmLck:");
	r->child_mlocked_kib = meminfo_kib("Mlocked:") - mlocked0;
	_exit(0);
}

/* How many one-page state mappings an unprivileged process gets under the limit. */
static void __attribute__((noreturn)) statemem_limit_child(enum state_kind kind, long limit_bytes,
							   long max_pages, struct statemem_result *r)
{
	struct rlimit rl = { .rlim_cur = limit_bytes, .rlim_max = limit_bytes };
	char *p;

	drop_cap_ipc_lock();
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		_exit(92);
	for (r->pages_under_limit = 0; r->pages_under_limit < max_pages; r->pages_under_limit++) {
		p = state_map(kind, page_bytes);
		if (!p) {
			r->errno_past_limit = errno;
			break;
		}
		touch_pages(p, 1);
	}
	_exit(0);
}

static void statemem_once(enum state_kind kind, long pages, long limit_bytes)
{
	size_t len = pages * page_bytes;
	long max_pages = 4 * limit_bytes / page_bytes + 16;
	long vmlck0 = status_kib(getpid(), "VmLck:");
	long long mlocked0 = meminfo_kib("Mlocked:"), unevictable0 = meminfo_kib("Unevictable:");
	long long mlocked, unevictable;
	char nb[3][32];
	struct statemem_result *r;
	struct child c;
	long vmlck;
	char *p;

	if (kind == SK_VDSO && vdso.missing) {
		printf("skip exp=statemem kind=vdso reason=%s\n", vdso.missing);
		return;
	}
	p = state_map(kind, len);
	if (!p) {
		printf("skip exp=statemem kind=%s reason=%s\n", state_kind_names[kind],
		       strerrorname_np(errno) ?: "mmap");
		return;
	}
	touch_pages(p, pages);
	vmlck = status_kib(getpid(), "VmLck:") - vmlck0;
	mlocked = meminfo_kib("Mlocked:") - mlocked0;
	unevictable = meminfo_kib("Unevictable:") - unevictable0;

	r = (void *)shared_map();
	if (!spawn(&c))
		statemem_fork_child(p, pages, r);
	child_wait(&c, now_ns() + CHILD_NS);
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status))
		die("statemem fork child ended with status %#x", c.status);
	munmap(p, len);

	if (!spawn(&c))
		statemem_limit_child(kind, limit_bytes, max_pages, r);
	child_wait(&c, now_ns() + CHILD_NS);
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status))
		die("statemem limit child ended with status %#x", c.status);

	printf("sample exp=statemem kind=%s pages=%ld vmlck_kib=%ld mlocked_kib=%s unevictable_kib=%s child_kept_pages=%ld child_vmlck_kib=%ld child_mlocked_kib=%s limit_bytes=%ld pages_under_limit=%ld errno_past_limit=%s\n",
	       state_kind_names[kind], pages, vmlck,
	       num_or_na(nb[0], sizeof(nb[0]), mlocked0 >= 0, mlocked),
	       num_or_na(nb[1], sizeof(nb[1]), unevictable0 >= 0, unevictable),
	       r->child_kept_pages, r->child_vmlck_kib,
	       num_or_na(nb[2], sizeof(nb[2]), mlocked0 >= 0, r->child_mlocked_kib),
	       limit_bytes, r->pages_under_limit,
	       r->pages_under_limit < max_pages ? errname(r->errno_past_limit) : "none_within_bound");
	fflush(stdout);
	munmap(r, page_bytes);
}

static int cmd_statemem(int argc, char **argv)
{
	struct opt opts[] = {
		{ "--kinds", "anon,droppable,mlock,mlock_inherit,unevictable,vdso" },
		{ "--pages", "1024" }, { "--limit-bytes", "65536" }, { NULL, NULL },
	};
	long pages, limit_bytes;
	char kinds[256], *tok, *save;

	parse_opts(argc, argv, opts);
	pages = opt_long(opts, "--pages", 1, 1L << 20);
	limit_bytes = opt_long(opts, "--limit-bytes", 0, 1L << 30);
	snprintf(kinds, sizeof(kinds), "%s", opt_get(opts, "--kinds"));
	for (tok = strtok_r(kinds, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		enum state_kind k;

		for (k = SK_ANON; k <= SK_VDSO; k++)
			if (!strcmp(tok, state_kind_names[k]))
				break;
		if (k > SK_VDSO)
			usage_error("--kinds", tok);
		statemem_once(k, pages, limit_bytes);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* states: real vDSO states, called by threads, under memory pressure   */

enum {
	MAX_CLASSES = 16,
	MAX_STATE_THREADS = 512,
	HIST_BUCKETS = 128,		/* a quarter octave each, up to 2^32 ns */
	STATE_STACK_BYTES = 64 << 10,
	CHURN_CHUNK = 1 << 20,		/* the churn reader's read() size */
};
#define LATE_NS		(1000000LL)	/* a call this far past its deadline is late */
#define MONITOR_NS	(100000000LL)	/* the parent looks at the memcg at 10 Hz */

/*
 * struct vgetrandom_state (include/vdso/getrandom.h, 6.11 and later):
 * 96 bytes of batch and a 32-byte key, then the u64 generation.  The
 * kernel publishes base_crng.generation + 1 (crng_reseed() in
 * drivers/char/random.c), so a live state never holds 0: a state that
 * reads 0 there was dropped, or never seeded.
 */
#define GENERATION_OFFSET 128

/* Nanoseconds in quarter-octave buckets; quantiles are bucket midpoints (within 12%). */
struct hist {
	uint32_t n[HIST_BUCKETS];
	uint64_t count;
	double sum_ns;
};

static int hist_bucket(int64_t ns)
{
	int octave, b;

	if (ns < 4)
		return ns < 0 ? 0 : (int)ns;
	octave = 63 - __builtin_clzll((uint64_t)ns);
	b = octave * 4 + (int)((ns >> (octave - 2)) & 3);
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

static void hist_add(struct hist *h, int64_t ns)
{
	h->n[hist_bucket(ns)]++;
	h->count++;
	h->sum_ns += ns;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
	for (int b = 0; b < HIST_BUCKETS; b++)
		into->n[b] += h->n[b];
	into->count += h->count;
	into->sum_ns += h->sum_ns;
}

/* The q-quantile as the midpoint of its bucket, into buf; "na" if empty. */
static const char *hist_quantile(char *buf, size_t size, const struct hist *h, double q)
{
	uint64_t want, seen = 0;
	int b;

	if (!h->count)
		return "na";
	want = (uint64_t)(q * (h->count - 1)) + 1;
	for (b = 0; b < HIST_BUCKETS - 1 && seen + h->n[b] < want; b++)
		seen += h->n[b];
	if (b < 8)
		snprintf(buf, size, "%d", b);
	else
		snprintf(buf, size, "%lld", ((long long)(9 + 2 * (b % 4)) << (b / 4 - 2)) / 2);
	return buf;
}

static const char *hist_mean(char *buf, size_t size, const struct hist *h)
{
	return h->count ? (snprintf(buf, size, "%.0f", h->sum_ns / h->count), buf) : "na";
}

struct state_class {
	double rate_hz;
	int threads;
	bool syscall;			/* its threads call getrandom(2): the loop's price for it */
	int pages, pages_shared;	/* pages holding its states; of those, shared with another class */
};

/*
 * The states options of the guest campaigns (issue 13), parsed and run by
 * the functions under "states in guests" below: page-cache churn through a
 * block device, swap, proactive reclaim, a DAMON pageout scheme.
 */
enum damon_ops { DAMON_NONE, DAMON_VADDR, DAMON_FVADDR, DAMON_PADDR };
static const char *const damon_ops_names[] = { "none", "vaddr", "fvaddr", "paddr" };

struct states_guest_cfg {
	const char *churn_dev;		/* a block device to churn through; "": a file in churn_dir */
	bool swap;			/* the memcg may swap (off: memory.swap.max 0) */
	long reclaim_mib, reclaim_period_s;	/* memory.reclaim of reclaim_mib every period; 0: none */
	enum damon_ops damon;
	long damon_min_age_s;		/* the scheme pages out what was not accessed this long */
};

struct states_cfg {
	struct state_class cls[MAX_CLASSES];
	int nclasses, nthreads;
	const char *classes;		/* as given, for the output */
	bool poisson, interleaved;
	int per_page;
	long run_s, key_life_s, settle_s, grace_s, size_bytes, seed;
	long limit_mib;			/* 0: no memcg, global pressure only */
	long churn_mib, churn_mib_s;	/* churn_mib_s 0: as fast as the disk reads */
	const char *churn_dir;
	long hog_mib, spike_mib, spike_period_s, spike_hold_ms;
	long trace_ms;			/* 0: no trace; else the page census period */
	int placement;			/* PLACE_*: which CPUs the caller and the pressure run on */
	long reader_hop_ms;		/* 0: the scheduler moves the reader; else it hops every MS */
	long tlb_flush_ms;		/* 0: none; else the caller's TLB is flushed every MS */
	bool probe;			/* --probe 1: idlecall's timed thread, both ways, beside the classes */
	bool split_prices;		/* --split-prices 1: warm calls by page gap and reader's CPU */
	struct states_guest_cfg guest;
};

/*
 * --placement: a refaulted state folio waits in its CPU's lru_add batch
 * (mm/swap.c folio_add_lru()) until that CPU adds a batch's worth of
 * folios or drains it; the churn reader fills its CPU's batch at once.  So
 * whether the callers share the reader's CPU may decide when reclaim first
 * sees a refaulted page.  any: the scheduler places everyone; same: the
 * caller, the reader and the hog all on CPU 0; split: the caller on CPU 1,
 * the reader and the hog on CPU 0.
 */
enum { PLACE_ANY, PLACE_SAME, PLACE_SPLIT };
static const char *const placement_names[] = { "any", "same", "split" };

enum { ZEROED_LOG = 256 };		/* --trace-ms: zeroed calls kept per thread */
/*
 * --split-prices: a warm call's bin by the gap since its page's last call.
 * The edges fall between the periods the study calls at (1 ms, 100 ms,
 * 1 s, 20 s), so a timer-locked class's first caller of a wake-up, whose
 * gap is its period less the wake-up's span, and the page-mates after it,
 * microseconds apart, land in bins of their own.
 */
enum { MATE_BINS = 5 };
static const int64_t mate_edge_ns[MATE_BINS - 1] = { 50000, 500000, 50000000, 500000000 };
static const char *const mate_bin_names[MATE_BINS] = { "50us", "500us", "50ms", "500ms", "inf" };
/*
 * The churn reader's CPU moves kept per run.  A folio faulted in waits in
 * its CPU's lru_add batch until that CPU adds a batch's worth of folios
 * (folio_batch_add_and_move(), mm/swap.c); the unpaced reader adds
 * thousands a second wherever it runs, so where it ran, and when it moved,
 * says when a refaulted state page can join the LRU.
 */
enum { READER_LOG = 8192 };

/* One calling thread's counts, written by it alone, read by the parent at the end. */
struct state_thread {
	int cls, page, slot;
	int nlog;			/* --trace-ms: zeroed calls logged (settle included) */
	int64_t log_ns[ZEROED_LOG];	/* since t0, negative while settling */
	int8_t log_cpu[ZEROED_LOG];	/* the CPU the zeroed call ran on */
	bool log_absent[ZEROED_LOG];	/* zeroed call i found its page absent */
	long calls, zeroed, zeroed_absent, late, skipped, natural_reseeds, errors;
	long calls_reader_cpu, zeroed_reader_cpu;	/* made on the CPU the reader last read on */
	long refaults, refaults_reader_cpu;	/* refaults this thread made (see refault_claim) */
	long lives, lives_dropped;	/* key lives (windows of key_life_s) with a call; with a drop */
	int64_t first_zeroed_ns, last_zeroed_ns;	/* since t0; -1: none */
	struct hist warm_call, zeroed_call, zeroed_check, natural_call;
	long mate_calls[MATE_BINS];	/* --split-prices: warm calls by the page's gap */
	double mate_sum_ns[MATE_BINS];
	long beside_calls;		/* --split-prices: warm calls on the reader's last CPU */
	double beside_sum_ns;
};

struct states_shared {
	struct shared base;		/* base.stage: what the parent asks */
	int caller_ready, caller_done, reader_ready, hog_ready, warm, spikes;
	uintptr_t states_block;		/* the caller's state pages, for the page-flag probe */
	/*
	 * The threads call from t_start on, as a running program's would while
	 * the pressure starts and settles; only calls from t0 to t_end count.
	 */
	int64_t t_start_ns, t0_ns, t_end_ns;
	long long churn_bytes;		/* read by the churn reader so far */
	int reader_cpu;			/* the CPU of the reader's last read; -1: no reader */
	int reader_moves;		/* reader_log entries written (at most READER_LOG) */
	struct { int64_t t_ns; int cpu; } reader_log[READER_LOG];	/* each change of reader_cpu */
	int64_t refault_ns[MAX_STATE_THREADS];	/* per page: its last refault's zeroed call */
	int64_t page_call_ns[MAX_STATE_THREADS];	/* --split-prices, per page: its last call's start */
	int64_t spike_fill_ns;		/* summed over spikes */
	long tlb_flushes;		/* --tlb-flush-ms: flushes made from t0 to t_end */
	struct hist probe_call[2];	/* --probe: each probe's calls from t0 to t_end */
	long probe_errors;
	struct state_thread th[MAX_STATE_THREADS];
};

struct state_arg {
	struct states_shared *sh;
	const struct states_cfg *cfg;
	struct state_thread *st;
	char *state, *page;
	uint64_t rng;
};

/*
 * Which call faulted a dropped page back: the page-mates that find it
 * absent call within microseconds of each other (timer-locked) or rarely
 * together (Poisson), so the first of them to claim the page, REFAULT_GAP_NS
 * after its last claim, stands for the refault.  Its CPU is the CPU whose
 * lru_add batch the new folio waits in.  Approximate: a page-mate that
 * claimed first may have called second.
 */
enum { REFAULT_GAP_NS = 5000000 };

static bool refault_claim(int64_t *last_ns, int64_t now)
{
	int64_t last = __atomic_load_n(last_ns, __ATOMIC_ACQUIRE);

	return (last == 0 || now - last > REFAULT_GAP_NS) &&
	       __atomic_compare_exchange_n(last_ns, &last, now, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* An exponential gap of mean 1/rate_hz, from the thread's own generator. */
static int64_t exp_gap_ns(uint64_t *rng, double rate_hz)
{
	double u = ((splitmix64(rng) >> 11) + 1) * 0x1.0p-53;	/* (0, 1] */

	return (int64_t)(-log(u) / rate_hz * NS_PER_S);
}

/*
 * Threads onto pages, per_page states in use per page (the rest of the
 * page's 28 slots unused).  grouped: each class on pages of its own;
 * interleaved: the classes dealt out in turn, as an allocator handing out
 * states LIFO mixes threads created at different times.
 */
static int states_layout(struct states_cfg *cfg, struct state_thread *th)
{
	int order[MAX_STATE_THREADS], n = 0, page = 0, slot = 0;
	int left[MAX_CLASSES], first[MAX_CLASSES];

	for (int c = 0, t = 0; c < cfg->nclasses; t += cfg->cls[c++].threads) {
		left[c] = cfg->cls[c].threads;
		first[c] = t;
	}
	if (cfg->interleaved) {
		for (bool more = true; more;) {
			more = false;
			for (int c = 0; c < cfg->nclasses; c++)
				if (left[c]) {
					order[n++] = first[c] + cfg->cls[c].threads - left[c]--;
					more = true;
				}
		}
	} else {
		for (int t = 0; t < cfg->nthreads; t++)
			order[n++] = t;
	}
	for (int i = 0; i < n; i++) {
		struct state_thread *st = &th[order[i]];

		for (st->cls = 0; order[i] >= first[st->cls] + cfg->cls[st->cls].threads; st->cls++)
			;
		/* grouped: a class starts on a fresh page */
		if (!cfg->interleaved && i && th[order[i - 1]].cls != st->cls && slot) {
			page++;
			slot = 0;
		}
		st->page = page;
		st->slot = slot;
		if (++slot == cfg->per_page) {
			page++;
			slot = 0;
		}
	}
	for (int c = 0; c < cfg->nclasses; c++) {
		cfg->cls[c].pages = cfg->cls[c].pages_shared = 0;
		for (int p = 0; p < page + !!slot; p++) {
			bool mine = false, other = false;

			for (int t = 0; t < cfg->nthreads; t++)
				if (th[t].page == p)
					*(th[t].cls == c ? &mine : &other) = true;
			cfg->cls[c].pages += mine;
			cfg->cls[c].pages_shared += mine && other;
		}
	}
	return page + !!slot;
}

/* One key life ended: count it if it lies whole inside the run and had a call. */
static void key_life_end(struct state_thread *st, long window, long nwindows, bool dropped)
{
	if (window >= 0 && window < nwindows) {
		st->lives++;
		st->lives_dropped += dropped;
	}
}

/*
 * A syscall class's threads keep their seeded states and run the same loop,
 * zeroed check included, but call getrandom(2): what the syscall costs a
 * thread calling as the vDSO's callers beside it do.
 */
static ssize_t state_call(const struct state_class *cls, void *buf, size_t len, void *state)
{
	return cls->syscall ? sys_getrandom(buf, len) : vdso_getrandom(buf, len, state);
}

/*
 * A warm call (key current, or a syscall class's) of ns, made gap after
 * its page's last call (the page's first: huge), beside: on the reader's
 * last CPU.
 */
static void warm_add(const struct states_cfg *cfg, struct state_thread *st, int64_t gap,
		     bool beside, int64_t ns)
{
	int b = 0;

	hist_add(&st->warm_call, ns);
	if (!cfg->split_prices)
		return;
	while (b < MATE_BINS - 1 && gap >= mate_edge_ns[b])
		b++;
	st->mate_calls[b]++;
	st->mate_sum_ns[b] += ns;
	st->beside_calls += beside;
	st->beside_sum_ns += beside ? ns : 0;
}

static void *state_thread_main(void *arg)
{
	struct state_arg *a = arg;
	const struct states_cfg *cfg = a->cfg;
	struct state_thread *st = a->st;
	const struct state_class *cls = &cfg->cls[st->cls];
	volatile uint64_t *generation = (volatile uint64_t *)(a->state + GENERATION_OFFSET);
	int64_t period_ns = (int64_t)(NS_PER_S / cls->rate_hz), key_life_ns = cfg->key_life_s * NS_PER_S;
	int64_t t_start, t0, t_end, next;
	long window = -1, nwindows;
	bool window_dropped = false;
	unsigned char buf[256];

	/* Seed the state: a fresh one reads zero, and that is no drop. */
	st->errors += vdso_getrandom(buf, cfg->size_bytes, a->state) != cfg->size_bytes;
	st->errors += !*generation;	/* the layout above is not this kernel's */
	__atomic_add_fetch(&a->sh->warm, 1, __ATOMIC_ACQ_REL);
	while (!(t_start = __atomic_load_n(&a->sh->t_start_ns, __ATOMIC_ACQUIRE))) {
		if (load(&a->sh->base.stage) >= STAGE_EXIT)
			return NULL;
		sleep_ns(POLL_NS);
	}
	t0 = a->sh->t0_ns;
	t_end = a->sh->t_end_ns;
	nwindows = (t_end - t0) / key_life_ns;
	/* periodic: every thread of a class on the same deadlines, t_start + k period */
	next = t_start + (cfg->poisson ? exp_gap_ns(&a->rng, cls->rate_hz) : 0);
	while (next < t_end && load(&a->sh->base.stage) < STAGE_EXIT) {
		int64_t start, t1, t2, t3, mate_gap;
		unsigned char vec = 0;
		bool resident, beside;
		uint64_t gen;
		long w;
		int cpu;

		sleep_until_ns(next);
		start = now_ns();
		if (next < t0) {	/* settling: call, count nothing (but the trace) */
			/* mincore() first: reading the word maps the zero page */
			resident = cfg->trace_ms && !mincore(a->page, page_bytes, &vec) && (vec & 1);
			if (cfg->trace_ms && !*generation && st->nlog < ZEROED_LOG) {
				st->log_absent[st->nlog] = !resident;
				st->log_cpu[st->nlog] = (int8_t)sched_getcpu();
				st->log_ns[st->nlog++] = start - t0;
			}
			st->errors += state_call(cls, buf, cfg->size_bytes, a->state) != cfg->size_bytes;
			goto schedule;
		}
		st->late += start - next > LATE_NS;
		w = (next - t0) / key_life_ns;
		if (w != window) {
			key_life_end(st, window, nwindows, window_dropped);
			window = w;
			window_dropped = false;
		}
		/* Absent: reclaim dropped the page and no page-mate has faulted it back. */
		resident = !mincore(a->page, page_bytes, &vec) && (vec & 1);
		/* Outside the timed span: the shared word's cache line moves between CPUs. */
		mate_gap = cfg->split_prices ? start - __atomic_exchange_n(&a->sh->page_call_ns[st->page],
									start, __ATOMIC_ACQ_REL) : 0;
		t1 = now_ns();
		gen = *generation;
		t2 = now_ns();
		st->errors += state_call(cls, buf, cfg->size_bytes, a->state) != cfg->size_bytes;
		t3 = now_ns();
		st->calls++;
		cpu = sched_getcpu();
		beside = cpu >= 0 && cpu == load(&a->sh->reader_cpu);	/* -1: no reader yet */
		st->calls_reader_cpu += beside;
		if (cls->syscall) {	/* its state idles: no drop or reseed of it is the call's */
			warm_add(cfg, st, mate_gap, beside, t3 - t2);
			goto schedule;
		}
		st->zeroed_reader_cpu += beside && !gen;
		if (!gen && !resident && refault_claim(&a->sh->refault_ns[st->page], start)) {
			st->refaults++;
			st->refaults_reader_cpu += beside;
		}
		if (!gen) {
			if (!st->zeroed)
				st->first_zeroed_ns = start - t0;
			st->last_zeroed_ns = start - t0;
			st->zeroed++;
			st->zeroed_absent += !resident;
			if (cfg->trace_ms && st->nlog < ZEROED_LOG) {
				st->log_absent[st->nlog] = !resident;
				st->log_cpu[st->nlog] = (int8_t)cpu;
				st->log_ns[st->nlog++] = start - t0;
			}
			window_dropped = true;
			hist_add(&st->zeroed_call, t3 - t2);
			hist_add(&st->zeroed_check, t2 - t1);
		} else if (*generation != gen) {
			/*
			 * The call wrote a new generation: the kernel's RNG had
			 * moved on, so it reseeded, a new key anyway.  (Until
			 * 9361d2a this compared the word before the call with
			 * the one after the last, which only a drop changes:
			 * no reseed was counted, each timed as a warm call.)
			 */
			st->natural_reseeds++;
			hist_add(&st->natural_call, t3 - t2);
		} else {
			warm_add(cfg, st, mate_gap, beside, t3 - t2);
		}
schedule:
		if (cfg->poisson) {
			next += exp_gap_ns(&a->rng, cls->rate_hz);
		} else {
			next += period_ns;
			if (next < (t3 = now_ns())) {	/* missed deadlines are skipped, not bunched */
				long k = (t3 - next) / period_ns + 1;

				next += k * period_ns;
				st->skipped += k;
			}
		}
	}
	key_life_end(st, window, nwindows, window_dropped);
	return NULL;
}

/* May this process run on each of CPUs 0 .. n-1? */
static bool cpus_allowed(int n)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return false;
	for (int cpu = 0; cpu < n; cpu++)
		if (!CPU_ISSET(cpu, &set))
			return false;
	return true;
}

/* Child: run on `cpu` alone (threads made later inherit it); -1: anywhere. */
static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		_exit(93);
}

/* --placement: the caller's CPU, and the reader's and hog's. */
static int caller_cpu(const struct states_cfg *cfg)
{
	return cfg->placement == PLACE_ANY ? -1 : cfg->placement == PLACE_SPLIT ? 1 : 0;
}

static int pressure_cpu(const struct states_cfg *cfg)
{
	return cfg->placement == PLACE_ANY ? -1 : 0;
}

/*
 * --tlb-flush-ms: x86's ptep_clear_flush_young() clears a PTE's accessed
 * bit without a TLB flush (arch/x86/mm/pgtable.c: "it could cause
 * incorrect page aging and the (mistaken) reclaim of hot pages"), and a
 * CPU that still caches the translation writes the page without setting
 * the bit again, so reclaim's next look may find a page in use unreferenced.
 * With PCID a context switch keeps the caller's entries.  This thread
 * flushes them all: mprotect() on a populated region of TLB_FLUSH_PAGES
 * changes every PTE there, and flush_tlb_mm_range() (arch/x86/mm/tlb.c)
 * flushes the whole mm, on every CPU, for a range above
 * tlb_single_page_flush_ceiling (33 pages).  The accessed bits are kept
 * (pte_modify() keeps _PAGE_ACCESSED); a call after a flush walks the page
 * table, which sets its page's bit again.
 */
enum { TLB_FLUSH_PAGES = 64 };

struct tlb_flusher {
	struct states_shared *sh;
	long period_ms;
	char *region;
};

static void *tlb_flusher_main(void *arg)
{
	struct tlb_flusher *f = arg;
	size_t len = TLB_FLUSH_PAGES * page_bytes;
	int64_t next;

	/* From when the calls start, as the calling threads wait for it. */
	while (!(next = __atomic_load_n(&f->sh->t_start_ns, __ATOMIC_ACQUIRE))) {
		if (load(&f->sh->caller_done) || getppid() != harness_pid)
			return NULL;
		sleep_ns(POLL_NS);
	}
	for (; next < f->sh->t_end_ns && !load(&f->sh->caller_done); next += f->period_ms * 1000000LL) {
		int64_t t;

		if (next > now_ns())
			sleep_ns(next - now_ns());
		t = now_ns();
		if (mprotect(f->region, len, PROT_READ) || mprotect(f->region, len, PROT_READ | PROT_WRITE))
			_exit(94);
		if (t >= f->sh->t0_ns && t < f->sh->t_end_ns)
			__atomic_add_fetch(&f->sh->tlb_flushes, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * --probe: idlecall's timed thread (cmd_idlecall() with --thread 1
 * --read-first 1 --abs-sleep 1) twice, in the caller's process beside the
 * classes, sharing their busy threads, CPUs, memcg and minute.  The states
 * loop's 1 Hz thread beside the 1000 Hz class paid a third of what
 * idlecall's thread set up as it in every named way paid; in one process
 * what still parts them is the timed loop's own code and data.  As there:
 * a stack of pthread's defaults, its state alone in a mapping of its own, a
 * 4 KiB buffer; it wakes to a deadline, reads the clock, its state's page
 * (mincore()) and generation word.  Then PROBE_INLINE times the call as
 * idlecall does by default, the call's arguments loaded between the clock
 * reads (the state's address from the heap array states_alloc() returns),
 * and PROBE_FUNCTION through timed_call(), whose arguments are loaded
 * before its first clock read, as idlecall's --call-code own.  Each calls
 * every second, the second half a second after the first.
 */
enum { PROBE_INLINE, PROBE_FUNCTION };

struct probe {
	struct states_shared *sh;
	const struct states_cfg *cfg;
	int how;		/* PROBE_* */
};

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	struct states_shared *sh = p->sh;
	long size = p->cfg->size_bytes;
	unsigned char buf[4096];
	volatile uint64_t *generation;
	int64_t next, t_end;
	size_t map_bytes;
	void **states = states_alloc(1, &map_bytes), *page;

	if (!states)
		_exit(92);
	page = (void *)((uintptr_t)states[0] & ~(page_bytes - 1));
	generation = (volatile uint64_t *)((char *)states[0] + GENERATION_OFFSET);
	__atomic_add_fetch(&sh->probe_errors, vdso_getrandom(buf, size, states[0]) != size,
			   __ATOMIC_RELAXED);
	while (!(next = __atomic_load_n(&sh->t_start_ns, __ATOMIC_ACQUIRE))) {
		if (load(&sh->base.stage) >= STAGE_EXIT)
			goto out;
		sleep_ns(POLL_NS);
	}
	t_end = sh->t_end_ns;
	next += p->how * NS_PER_S / 2;
	for (;;) {
		int64_t t0, ns;
		ssize_t ret;

		next += NS_PER_S;
		if (next >= t_end || load(&sh->base.stage) >= STAGE_EXIT)
			break;
		sleep_until_ns(next);
		(void)now_ns();
		(void)page_resident(page);
		(void)*generation;
		if (p->how == PROBE_FUNCTION) {
			ns = timed_call(false, buf, size, states[0], &ret);
		} else {
			t0 = now_ns();
			ret = vdso_getrandom(buf, size, states[0]);
			ns = now_ns() - t0;
		}
		__atomic_add_fetch(&sh->probe_errors, ret != size, __ATOMIC_RELAXED);
		if (next >= sh->t0_ns)
			hist_add(&sh->probe_call[p->how], ns);
	}
out:
	munmap(page, map_bytes);
	free(states);
	return NULL;
}

/* The process whose threads call the vDSO, inside the memcg. */
static void __attribute__((noreturn)) caller_main(struct states_shared *sh, const struct memcg *cg,
						  const struct states_cfg *cfg, int pages, long sample,
						  int64_t deadline)
{
	static struct state_arg args[MAX_STATE_THREADS];
	static pthread_t tid[MAX_STATE_THREADS];
	static struct tlb_flusher flusher;
	static struct probe probes[2];
	pthread_t flusher_tid, probe_tid[2];
	size_t state_bytes = vdso.params.size_of_opaque_state;
	pthread_attr_t attr;
	char *block;

	if (cg->path[0])
		memcg_enter(cg);
	pin_to_cpu(caller_cpu(cfg));
	block = mmap(NULL, pages * page_bytes, vdso.params.mmap_prot, vdso.params.mmap_flags, -1, 0);
	if (block == MAP_FAILED)
		_exit(97);
	sh->states_block = (uintptr_t)block;
	if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, STATE_STACK_BYTES))
		_exit(96);
	if (cfg->tlb_flush_ms) {
		flusher = (struct tlb_flusher){ .sh = sh, .period_ms = cfg->tlb_flush_ms,
			.region = mmap(NULL, TLB_FLUSH_PAGES * page_bytes, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0) };
		if (flusher.region == MAP_FAILED ||
		    pthread_create(&flusher_tid, &attr, tlb_flusher_main, &flusher))
			_exit(93);
	}
	/* pthread's default attributes, as idlecall's --thread 1 */
	for (int i = 0; cfg->probe && i < 2; i++) {
		probes[i] = (struct probe){ .sh = sh, .cfg = cfg, .how = i };
		if (pthread_create(&probe_tid[i], NULL, probe_main, &probes[i]))
			_exit(92);
	}
	for (int t = 0; t < cfg->nthreads; t++) {
		struct state_thread *st = &sh->th[t];

		args[t] = (struct state_arg){
			.sh = sh, .cfg = cfg, .st = st,
			.page = block + st->page * page_bytes,
			.state = block + st->page * page_bytes + st->slot * state_bytes,
			.rng = (uint64_t)cfg->seed * 0x100000001b3ULL + (uint64_t)sample * 65537 + t,
		};
		if (pthread_create(&tid[t], &attr, state_thread_main, &args[t]))
			_exit(95);
	}
	while (load(&sh->warm) < cfg->nthreads) {
		if (now_ns() >= deadline || getppid() != harness_pid)
			_exit(98);
		sleep_ns(POLL_NS);
	}
	store(&sh->caller_ready, 1);
	/* The threads end at t_end, or at once if the parent gives up first. */
	for (int t = 0; t < cfg->nthreads; t++)
		pthread_join(tid[t], NULL);
	for (int i = 0; cfg->probe && i < 2; i++)
		pthread_join(probe_tid[i], NULL);
	store(&sh->caller_done, 1);
	if (cfg->tlb_flush_ms)
		pthread_join(flusher_tid, NULL);
	child_wait_stage(&sh->base, STAGE_EXIT, deadline);
	_exit(0);
}

/* Child: sleep until `when`; false once the parent asks everyone to exit. */
static bool child_sleep_until(struct shared *sh, int64_t when, int64_t deadline)
{
	for (int64_t now; (now = now_ns()) < when;) {
		if (load(&sh->stage) >= STAGE_EXIT)
			return false;
		if (now >= deadline || getppid() != harness_pid)
			_exit(98);
		sleep_ns(when - now < 10 * POLL_NS ? when - now : 10 * POLL_NS);
	}
	return load(&sh->stage) < STAGE_EXIT;
}

/* The reader read on `cpu`: note it, and log it when it moved. */
static void reader_moved(struct states_shared *sh, int cpu)
{
	int n = sh->reader_moves;

	if (cpu == load(&sh->reader_cpu))
		return;
	if (n < READER_LOG) {
		sh->reader_log[n].t_ns = now_ns();
		sh->reader_log[n].cpu = cpu;
		__atomic_store_n(&sh->reader_moves, n + 1, __ATOMIC_RELEASE);
	}
	store(&sh->reader_cpu, cpu);
}

/*
 * Page-cache churn: re-read a file larger than the limit, in order, as
 * a process streaming through its data would; every read charges the
 * memcg and pushes reclaim along the file LRU, where droppable folios
 * live too (they are !swapbacked, so folio_is_file_lru()).
 */
static void __attribute__((noreturn)) reader_main(struct states_shared *sh, const struct memcg *cg,
						  int fd, long long file_bytes, long long bytes_per_s,
						  int cpu, long hop_ms, int64_t deadline)
{
	long long off = 0, done = 0;
	int64_t t_start, next_hop;
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN), hop_cpu = 0;
	char *buf;

	/* A name of its own, so that a scheduler trace (measure.sched_trace) can
	 * follow the reader alone among the harness's processes. */
	prctl(PR_SET_NAME, READER_COMM);
	if (cg->path[0])
		memcg_enter(cg);
	pin_to_cpu(hop_ms ? hop_cpu : cpu);
	buf = mmap(NULL, CHURN_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		_exit(97);
	store(&sh->reader_ready, 1);
	t_start = now_ns();
	next_hop = t_start + hop_ms * 1000000LL;
	for (;;) {
		ssize_t n;

		if (bytes_per_s &&
		    !child_sleep_until(&sh->base, t_start + (int64_t)((double)done * NS_PER_S / bytes_per_s),
				       deadline))
			break;
		if (load(&sh->base.stage) >= STAGE_EXIT)
			break;
		if (now_ns() >= deadline || getppid() != harness_pid)
			_exit(98);
		/* --reader-hop-ms: between reads, so a hop never splits one. */
		if (hop_ms && now_ns() >= next_hop) {
			next_hop = now_ns() + hop_ms * 1000000LL;
			pin_to_cpu(hop_cpu = (hop_cpu + 1) % ncpus);
		}
		n = pread(fd, buf, CHURN_CHUNK, off);
		if (n < 0)
			_exit(96);
		off = n == 0 || off + n >= file_bytes ? 0 : off + n;
		done += n;
		__atomic_add_fetch(&sh->churn_bytes, n, __ATOMIC_RELAXED);
		reader_moved(sh, sched_getcpu());
	}
	_exit(0);
}

/*
 * Anonymous pressure: hog_mib written and held from the start; with
 * spike_mib, every spike_period_s (the first half a period after t0) it
 * writes spike_mib more, holds them spike_hold_ms and gives them back.
 * No swap: none of it can be reclaimed.
 */
static void __attribute__((noreturn)) states_hog_main(struct states_shared *sh, const struct memcg *cg,
						      const struct states_cfg *cfg, int64_t deadline)
{
	long base = cfg->hog_mib * (MIB / page_bytes), spike = cfg->spike_mib * (MIB / page_bytes);
	int64_t period_ns = cfg->spike_period_s * NS_PER_S, t0 = 0, next;
	char *p;

	if (cg->path[0])
		memcg_enter(cg);
	pin_to_cpu(pressure_cpu(cfg));
	p = mmap(NULL, (base + spike) * page_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(97);
	madvise(p, (base + spike) * page_bytes, MADV_NOHUGEPAGE);
	touch_pages(p, base);
	store(&sh->hog_ready, 1);
	while (spike && !__atomic_load_n(&sh->t_start_ns, __ATOMIC_ACQUIRE))
		if (!child_sleep_until(&sh->base, now_ns() + 10 * POLL_NS, deadline))
			_exit(0);
	t0 = sh->t0_ns;
	for (next = spike ? t0 + period_ns / 2 : 0; spike && next < sh->t_end_ns; next += period_ns) {
		int64_t t;

		if (!child_sleep_until(&sh->base, next, deadline))
			_exit(0);
		t = now_ns();
		touch_pages(p + base * page_bytes, spike);
		__atomic_add_fetch(&sh->spike_fill_ns, now_ns() - t, __ATOMIC_RELAXED);
		if (!child_sleep_until(&sh->base, now_ns() + cfg->spike_hold_ms * 1000000LL, deadline))
			_exit(0);
		if (madvise(p + base * page_bytes, spike * page_bytes, MADV_DONTNEED))
			_exit(96);
		__atomic_add_fetch(&sh->spikes, 1, __ATOMIC_ACQ_REL);
	}
	child_wait_stage(&sh->base, STAGE_EXIT, deadline);
	_exit(0);
}

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif

/*
 * The file to churn through: unnamed (O_TMPFILE) on a disk filesystem, so
 * that nothing is left behind on any exit, and never tmpfs, whose pages
 * are shmem on the anon LRU.  Written once here, outside the memcg; each
 * run drops its cache first so that the reader charges every page it reads.
 * Returns an fd, or -1 with a skip reason.
 */
static int churn_file_create(const char *dir, long mib, const char **reason)
{
	char path[PATH_MAX], *buf;
	struct statfs sf;
	int fd;

	if (statfs(dir, &sf)) {
		*reason = "churn_dir_unusable";
		return -1;
	}
	if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC) {
		*reason = "churn_dir_in_memory";
		return -1;
	}
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(path, sizeof(path), "%s/vgetrandom-harness.XXXXXX", dir);
		if ((fd = mkstemp(path)) < 0) {
			*reason = "churn_file_cannot_be_created";
			return -1;
		}
		unlink(path);
	}
	buf = malloc(MIB);
	if (!buf)
		die("malloc: %s", strerror(errno));
	memset(buf, 0x5a, MIB);
	for (long i = 0; i < mib; i++)
		if (write(fd, buf, MIB) != MIB)
			die("writing the churn file in %s: %s", dir, strerror(errno));
	free(buf);
	if (fsync(fd))
		die("fsync of the churn file: %s", strerror(errno));
	return fd;
}

/*
 * Where the state pages are on the LRU at the end of the run, from
 * /proc/PID/pagemap and /proc/kpageflags (root only; -1 elsewhere):
 * resident, on an LRU list, on the active one.  A page that reclaim
 * activated is safe from it until shrink_active_list() deactivates it,
 * which it does only when the inactive file list runs low or file
 * refaults are being activated (prepare_scan_control()).
 */
struct page_census {
	int present, lru, active;
};

/* Where one state page is: what /proc/PID/pagemap and /proc/kpageflags say. */
enum page_where {
	PAGE_UNKNOWN, PAGE_ABSENT, PAGE_OFF_LRU, PAGE_INACTIVE, PAGE_INACTIVE_REF,
	PAGE_ACTIVE, PAGE_ACTIVE_REF,
};
static const char *const page_where_names[] = {
	"unknown", "absent", "off_lru", "inactive", "inactive_ref", "active", "active_ref",
};

/* Each state page's place into where[]; false if the files cannot be read (not root). */
static bool state_pages_where(int pm, int kf, uintptr_t block, int pages, unsigned char *where)
{
	for (int i = 0; i < pages; i++) {
		uint64_t entry, flags, pfn;

		if (pread(pm, &entry, 8, (block / page_bytes + i) * 8) != 8)
			return false;
		pfn = entry & ((1ULL << 55) - 1);
		if (!(entry >> 63) || !pfn) {	/* absent, or no PFN shown */
			where[i] = PAGE_ABSENT;
			continue;
		}
		if (pread(kf, &flags, 8, pfn * 8) != 8) {
			where[i] = PAGE_UNKNOWN;
			continue;
		}
		/* KPF_LRU 5, KPF_ACTIVE 6, KPF_REFERENCED 2 (PG_referenced) */
		where[i] = !(flags >> 5 & 1) ? PAGE_OFF_LRU :
			   (flags >> 6 & 1) ? PAGE_ACTIVE + (flags >> 2 & 1) :
			   PAGE_INACTIVE + (flags >> 2 & 1);
	}
	return true;
}

static int open_pagemap(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static struct page_census state_pages_census(pid_t pid, uintptr_t block, int pages)
{
	struct page_census pc = { -1, -1, -1 };
	unsigned char where[MAX_STATE_THREADS];
	int pm = open_pagemap(pid), kf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);

	if (pm >= 0 && kf >= 0 && block && state_pages_where(pm, kf, block, pages, where)) {
		pc = (struct page_census){ 0, 0, 0 };
		for (int i = 0; i < pages; i++) {
			pc.present += where[i] != PAGE_ABSENT;
			pc.lru += where[i] >= PAGE_INACTIVE;
			pc.active += where[i] >= PAGE_ACTIVE;
		}
	}
	if (pm >= 0)
		close(pm);
	if (kf >= 0)
		close(kf);
	return pc;
}

/*
 * --trace-ms: every state page's place, looked at every period from the
 * calls' start to the end, printed as commentary when it changes:
 *   # trace t_s=T page=P where=absent|off_lru|inactive|inactive_ref|active|active_ref
 * (T in seconds since t0, negative while settling).  Then every zeroed
 * call the threads logged:  # zeroed t_s=T thread=N page=P absent=0|1 cpu=C
 */
struct page_trace {
	int pm, kf, pages;
	uintptr_t block;
	unsigned char last[MAX_STATE_THREADS];
};

static void page_trace_once(struct page_trace *tr, int64_t t0)
{
	unsigned char where[MAX_STATE_THREADS];
	int64_t t = now_ns() - t0;

	if (tr->pm < 0 || tr->kf < 0 || !state_pages_where(tr->pm, tr->kf, tr->block, tr->pages, where))
		return;
	for (int i = 0; i < tr->pages; i++)
		if (where[i] != tr->last[i]) {
			printf("# trace t_s=%.4f page=%d where=%s\n", t / 1e9, i,
			       page_where_names[where[i]]);
			tr->last[i] = where[i];
		}
}

/* Sleep until `until`, tracing the pages every trace_ms on the way (if asked). */
static void traced_sleep_until(struct page_trace *tr, const struct states_cfg *cfg, int64_t until,
			       int64_t t0)
{
	int64_t step = cfg->trace_ms * 1000000LL;

	if (!cfg->trace_ms || tr->pm < 0) {
		sleep_ns(until - now_ns());
		return;
	}
	for (int64_t now; (now = now_ns()) < until;) {
		page_trace_once(tr, t0);
		sleep_ns(until - now < step ? until - now : step);
	}
}

static void zeroed_log_print(const struct states_cfg *cfg, const struct states_shared *sh)
{
	for (int t = 0; cfg->trace_ms && t < cfg->nthreads; t++)
		for (int i = 0; i < sh->th[t].nlog; i++)
			printf("# zeroed t_s=%.4f thread=%d page=%d absent=%d cpu=%d\n",
			       sh->th[t].log_ns[i] / 1e9, t, sh->th[t].page,
			       (int)sh->th[t].log_absent[i], sh->th[t].log_cpu[i]);
}

/* Every move of the churn reader:  # reader t_s=T cpu=C  (T since t0). */
static void reader_log_print(const struct states_shared *sh, int64_t t0)
{
	int n = load(&sh->reader_moves);

	for (int i = 0; i < n; i++)
		printf("# reader t_s=%.4f cpu=%d\n", (sh->reader_log[i].t_ns - t0) / 1e9,
		       sh->reader_log[i].cpu);
	if (n == READER_LOG)
		printf("# reader: log full, later moves not kept\n");
}

static long long memcg_stat(const struct memcg *cg, const char *key)
{
	char file[PATH_MAX + 16];

	snprintf(file, sizeof(file), "%s/memory.stat", cg->path);
	return read_keyed(file, key);
}

/* What the parent saw of the memcg at 10 Hz during the run. */
struct memcg_watch {
	long samples, at_limit;
	double usage_sum, inactive_file_sum, active_file_sum;
	long long usage_max;
};

static void memcg_watch_once(const struct memcg *cg, long long limit_bytes, struct memcg_watch *w)
{
	long long usage = memcg_usage(cg), near = limit_bytes / 100;

	if (usage < 0)
		return;
	/* "At the limit": within 1% (at least 1 MiB) of it; reclaim works in batches. */
	if (near < MIB)
		near = MIB;
	w->samples++;
	w->at_limit += usage >= limit_bytes - near;
	w->usage_sum += usage;
	w->usage_max = usage > w->usage_max ? usage : w->usage_max;
	w->inactive_file_sum += memcg_stat(cg, "inactive_file");
	w->active_file_sum += memcg_stat(cg, "active_file");
}

static const char *mean_or_na(char *buf, size_t size, long n, double sum, double scale)
{
	return n ? (snprintf(buf, size, "%.0f", sum / n / scale), buf) : "na";
}

/* ------------------------------------------------------------------ */
/* states in guests: block-device churn, swap, proactive reclaim, DAMON */

/*
 * Page-cache churn where there is no disk filesystem (a guest's files are
 * tmpfs): buffered reads of a block device go through its page cache
 * (blkdev_read_iter() -> filemap_read()), clean folios on the file LRU,
 * charged to the reader's memcg as a file's are.  An fd, or -1 with a
 * skip reason.
 */
static int churn_dev_open(const char *dev, long mib, const char **reason)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	struct stat st;

	*reason = "churn_dev_cannot_be_opened";
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISBLK(st.st_mode))
		*reason = "churn_dev_not_a_block_device";
	else if (lseek(fd, 0, SEEK_END) < (off_t)mib * MIB)
		*reason = "churn_dev_smaller_than_churn_mib";
	else
		return fd;
	close(fd);
	return -1;
}

/* Let the memcg swap, which memcg_create() forbids. */
static void memcg_allow_swap(const struct memcg *cg)
{
	char file[PATH_MAX];
	int err;

	memcg_file(cg, "memory.swappiness", "memory.swap.max", file);
	if ((err = write_str(file, cg->v2 ? "max" : "60")))
		die("%s: %s", file, strerror(-err));
}

/* Which state pages are resident, by the present bit of /proc/PID/pagemap. */
static bool state_pages_present(int pagemap_fd, uintptr_t block, int pages, bool *present)
{
	for (int i = 0; i < pages; i++) {
		uint64_t entry;

		if (pread(pagemap_fd, &entry, 8, (block / page_bytes + i) * 8) != 8)
			return false;
		present[i] = entry >> 63;
	}
	return true;
}

/*
 * Proactive reclaim, as TMO/senpai-style agents do it: every
 * reclaim_period_s, write reclaim_mib to the memcg's memory.reclaim
 * (v2; memory_reclaim() -> try_to_free_mem_cgroup_pages()), whether or
 * not memory is short.  A thread of the parent, outside the memcg.  Around
 * each write it reads which state pages are resident, the memcg's
 * pgsteal and the droppable_discard counter (0001), so that what one
 * reclaim takes, and of which class, is counted per reclaim.  Only
 * reclaims that start inside the counted window count.
 */
static struct {
	const struct states_cfg *cfg;
	struct states_shared *sh;
	struct memcg cg;
	char reclaim_file[PATH_MAX];
	int pagemap_fd, pages;
	uint16_t page_classes[MAX_STATE_THREADS];	/* bit c: class c has a state on the page */
	pthread_t tid;
	bool running;
	int stop;
	long reclaims, reclaims_short, reclaims_dropping, pages_dropped, last_errno;
	long class_pages_dropped[MAX_CLASSES];
	double write_ns_sum;
	long long pgsteal_sum, discard_sum, discard_max;
} proactive;

static void *proactive_main(void *arg)
{
	const struct states_cfg *cfg = proactive.cfg;
	struct states_shared *sh = proactive.sh;
	int64_t period_ns = cfg->guest.reclaim_period_s * NS_PER_S, next = now_ns();
	bool before[MAX_STATE_THREADS], after[MAX_STATE_THREADS];
	char amount[32];

	snprintf(amount, sizeof(amount), "%ldM", cfg->guest.reclaim_mib);
	for (; next < sh->t_end_ns; next += period_ns) {
		long long steal0, discard0, steal1, discard1;
		bool census;
		int64_t t, dt;
		long dropped = 0;
		int err;

		while (now_ns() < next && !load(&proactive.stop))
			sleep_ns(next - now_ns() < 10 * POLL_NS ? next - now_ns() : 10 * POLL_NS);
		if (load(&proactive.stop))
			break;
		steal0 = memcg_stat(&proactive.cg, "pgsteal");
		discard0 = read_keyed("/proc/vmstat", "droppable_discard");
		census = state_pages_present(proactive.pagemap_fd, sh->states_block, proactive.pages, before);
		t = now_ns();
		err = write_str(proactive.reclaim_file, amount);
		dt = now_ns() - t;
		census &= state_pages_present(proactive.pagemap_fd, sh->states_block, proactive.pages, after);
		steal1 = memcg_stat(&proactive.cg, "pgsteal");
		discard1 = read_keyed("/proc/vmstat", "droppable_discard");
		if (t < sh->t0_ns || t >= sh->t_end_ns)
			continue;
		proactive.reclaims++;
		proactive.write_ns_sum += dt;
		/* EAGAIN: memory_reclaim() gave up short of what it was asked for. */
		proactive.reclaims_short += err == -EAGAIN;
		if (err && err != -EAGAIN)
			proactive.last_errno = -err;
		proactive.pgsteal_sum += steal1 - steal0;
		if (discard0 >= 0 && discard1 >= 0) {
			proactive.discard_sum += discard1 - discard0;
			if (discard1 - discard0 > proactive.discard_max)
				proactive.discard_max = discard1 - discard0;
		}
		for (int i = 0; census && i < proactive.pages; i++) {
			if (!before[i] || after[i])
				continue;
			dropped++;
			for (int c = 0; c < cfg->nclasses; c++)
				proactive.class_pages_dropped[c] += proactive.page_classes[i] >> c & 1;
		}
		proactive.pages_dropped += dropped;
		proactive.reclaims_dropping += dropped > 0;
	}
	return NULL;
}

static const char *proactive_start(const struct states_cfg *cfg, struct states_shared *sh,
				   const struct memcg *cg, pid_t caller, int pages)
{
	char path[64];

	memset(&proactive, 0, sizeof(proactive));
	if (!cfg->guest.reclaim_mib)
		return NULL;
	if (!cg->path[0] || !cg->v2)
		return "proactive_needs_cgroup_v2_memcg";
	proactive.cfg = cfg;
	proactive.sh = sh;
	proactive.cg = *cg;
	proactive.pages = pages;
	proactive.discard_max = -1;
	snprintf(proactive.reclaim_file, sizeof(proactive.reclaim_file), "%s/memory.reclaim", cg->path);
	if (access(proactive.reclaim_file, W_OK))
		return "no_memory_reclaim";
	for (int t = 0; t < cfg->nthreads; t++)
		proactive.page_classes[sh->th[t].page] |= 1 << sh->th[t].cls;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", caller);
	if ((proactive.pagemap_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return "no_pagemap";
	if (pthread_create(&proactive.tid, NULL, proactive_main, NULL))
		die("pthread_create: %s", strerror(errno));
	proactive.running = true;
	return NULL;
}

static void proactive_stop(void)
{
	if (!proactive.running)
		return;
	store(&proactive.stop, 1);
	pthread_join(proactive.tid, NULL);
	close(proactive.pagemap_fd);
	proactive.running = false;
}

/*
 * DAMON: one kdamond with one DAMOS scheme, "pageout what had no access
 * for damon_min_age_s" (nr_accesses 0..0, age from min_age_s / aggr), the
 * shape of DAMON_RECLAIM's scheme without its quotas and watermarks, on
 *   vaddr:  the calling process's address space (regions from its mappings;
 *           pageout is MADV_PAGEOUT, reclaim_pages() ignoring references),
 *   fvaddr: the state pages alone, as a fixed virtual range,
 *   paddr:  the largest System RAM range (damon_pa_pageout(): unfiltered here,
 *           but for the young filter it adds itself).
 * Only where no kdamond exists (nr_kdamonds 0): DAMON that someone else set
 * up, such as a host's own daemon, is never written.
 */
#define DAMON_SAMPLE_US	5000
#define DAMON_AGGR_US	100000
#define DAMON_KD	DAMON_ADMIN "/0"
#define DAMON_CTX	DAMON_KD "/contexts/0"
#define DAMON_SCHEME	DAMON_CTX "/schemes/0"

static bool damon_running;

static bool damon_set(const char *file, const char *fmt, ...)
{
	char val[64];
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if ((err = write_str(file, val)))
		printf("# damon: file=%s value=%s errno=%s\n", file, val, errname(-err));
	return !err;
}

/* The largest "System RAM" range of /proc/iomem, [start, end). */
static bool iomem_biggest_ram(unsigned long long *start, unsigned long long *end)
{
	FILE *f = fopen("/proc/iomem", "re");
	unsigned long long s, e;
	char line[256];

	*start = *end = 0;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (line[0] != ' ' && strstr(line, "System RAM") &&
		    sscanf(line, "%llx-%llx", &s, &e) == 2 && e + 1 - s > *end - *start) {
			*start = s;
			*end = e + 1;
		}
	fclose(f);
	return *end > *start;
}

static void damon_stop(void)
{
	if (!damon_running)
		return;
	write_str(DAMON_KD "/state", "off");
	write_str(DAMON_ADMIN "/nr_kdamonds", "0");
	damon_running = false;
}

static const char *damon_start(const struct states_cfg *cfg, pid_t caller, uintptr_t block, int pages)
{
	unsigned long long ram_start = 0, ram_end = 0;
	bool ok;

	if (cfg->guest.damon == DAMON_NONE)
		return NULL;
	if (read_ll(DAMON_ADMIN "/nr_kdamonds") != 0)
		return access(DAMON_ADMIN, F_OK) ? "no_damon_sysfs" : "damon_in_use";
	if (cfg->guest.damon == DAMON_PADDR && !iomem_biggest_ram(&ram_start, &ram_end))
		return "no_system_ram_in_iomem";
	if (!damon_set(DAMON_ADMIN "/nr_kdamonds", "1"))
		return "damon_setup_failed";
	damon_running = true;
	ok = damon_set(DAMON_KD "/contexts/nr_contexts", "1") &&
	     damon_set(DAMON_CTX "/operations", "%s", damon_ops_names[cfg->guest.damon]) &&
	     damon_set(DAMON_CTX "/monitoring_attrs/intervals/sample_us", "%d", DAMON_SAMPLE_US) &&
	     damon_set(DAMON_CTX "/monitoring_attrs/intervals/aggr_us", "%d", DAMON_AGGR_US) &&
	     damon_set(DAMON_CTX "/monitoring_attrs/intervals/update_us", "%d", 1000000) &&
	     damon_set(DAMON_CTX "/monitoring_attrs/nr_regions/min", "10") &&
	     damon_set(DAMON_CTX "/monitoring_attrs/nr_regions/max", "1000") &&
	     damon_set(DAMON_CTX "/targets/nr_targets", "1");
	if (ok && cfg->guest.damon != DAMON_PADDR)
		ok = damon_set(DAMON_CTX "/targets/0/pid_target", "%d", caller);
	if (ok && cfg->guest.damon != DAMON_VADDR) {
		unsigned long long start = block, end = block + (uintptr_t)pages * page_bytes;

		if (cfg->guest.damon == DAMON_PADDR) {
			start = ram_start;
			end = ram_end;
		}
		ok = damon_set(DAMON_CTX "/targets/0/regions/nr_regions", "1") &&
		     damon_set(DAMON_CTX "/targets/0/regions/0/end", "%llu", end) &&
		     damon_set(DAMON_CTX "/targets/0/regions/0/start", "%llu", start);
	}
	ok = ok && damon_set(DAMON_CTX "/schemes/nr_schemes", "1") &&
	     damon_set(DAMON_SCHEME "/action", "pageout") &&
	     damon_set(DAMON_SCHEME "/access_pattern/sz/min", "0") &&
	     damon_set(DAMON_SCHEME "/access_pattern/sz/max", "%lu", ULONG_MAX) &&
	     damon_set(DAMON_SCHEME "/access_pattern/nr_accesses/min", "0") &&
	     damon_set(DAMON_SCHEME "/access_pattern/nr_accesses/max", "0") &&
	     damon_set(DAMON_SCHEME "/access_pattern/age/min", "%lld",
		       cfg->guest.damon_min_age_s * 1000000LL / DAMON_AGGR_US) &&
	     damon_set(DAMON_SCHEME "/access_pattern/age/max", "%u", UINT_MAX) &&
	     damon_set(DAMON_KD "/state", "on");
	if (!ok) {
		damon_stop();
		return "damon_setup_failed";
	}
	return NULL;
}

/* The scheme's stats now: nr_tried, sz_tried, nr_applied, sz_applied. */
static void damon_stats(long long stats[4])
{
	static const char *const names[] = { "nr_tried", "sz_tried", "nr_applied", "sz_applied" };
	char file[128];

	/* The files change only when the kdamond is asked to refresh them. */
	write_str(DAMON_KD "/state", "update_schemes_stats");
	for (int i = 0; i < 4; i++) {
		snprintf(file, sizeof(file), DAMON_SCHEME "/stats/%s", names[i]);
		stats[i] = damon_running ? read_ll(file) : -1;
	}
}

/* What the guest options add to a run: started with the pressure, stopped after the window. */
static struct {
	long long damon0[4], damon1[4];
} guest_run;

static const char *states_guest_start(const struct states_cfg *cfg, struct states_shared *sh,
				      const struct memcg *cg, pid_t caller, int pages)
{
	const char *reason = proactive_start(cfg, sh, cg, caller, pages);

	return reason ? reason : damon_start(cfg, caller, sh->states_block, pages);
}

static void states_guest_window(bool end)
{
	if (damon_running)
		damon_stats(end ? guest_run.damon1 : guest_run.damon0);
}

static void states_guest_stop(void)
{
	proactive_stop();
	damon_stop();
}

/* The run's guest columns, appended to its run text. */
static void states_guest_format(char *buf, size_t size, const struct states_cfg *cfg)
{
	const struct states_guest_cfg *g = &cfg->guest;
	char nb[6][32];
	size_t n;

	n = snprintf(buf, size, " churn_dev=%s swap=%s reclaim_mib=%ld reclaim_period_s=%ld",
		     g->churn_dev[0] ? g->churn_dev : "none", g->swap ? "on" : "off", g->reclaim_mib,
		     g->reclaim_mib ? g->reclaim_period_s : 0);
	if (g->reclaim_mib)
		n += snprintf(buf + n, size - n,
			      " reclaims=%ld reclaims_short=%ld reclaim_last_errno=%s reclaim_write_ns_mean=%s reclaim_pgsteal_mean=%s reclaim_discard_mean=%s reclaim_discard_max=%s reclaims_dropping=%ld reclaim_state_pages_dropped=%ld",
			      proactive.reclaims, proactive.reclaims_short,
			      proactive.last_errno ? errname(proactive.last_errno) : "0",
			      mean_or_na(nb[0], 32, proactive.reclaims, proactive.write_ns_sum, 1),
			      mean_or_na(nb[1], 32, proactive.reclaims, proactive.pgsteal_sum, 1),
			      proactive.discard_max < 0 ? "na" :
			      (snprintf(nb[2], 32, "%.2f", (double)proactive.discard_sum /
					(proactive.reclaims ? proactive.reclaims : 1)), nb[2]),
			      num_or_na(nb[3], 32, proactive.discard_max >= 0, proactive.discard_max),
			      proactive.reclaims_dropping, proactive.pages_dropped);
	n += snprintf(buf + n, size - n, " damon=%s damon_min_age_s=%ld", damon_ops_names[g->damon],
		      g->damon ? g->damon_min_age_s : 0);
	if (g->damon) {
		bool have = guest_run.damon0[0] >= 0 && guest_run.damon1[0] >= 0;

		snprintf(buf + n, size - n,
			 " damon_scheme_nr_tried=%s damon_scheme_sz_tried=%s damon_scheme_nr_applied=%s damon_scheme_sz_applied=%s",
			 num_or_na(nb[0], 32, have, guest_run.damon1[0] - guest_run.damon0[0]),
			 num_or_na(nb[1], 32, have, guest_run.damon1[1] - guest_run.damon0[1]),
			 num_or_na(nb[2], 32, have, guest_run.damon1[2] - guest_run.damon0[2]),
			 num_or_na(nb[3], 32, have, guest_run.damon1[3] - guest_run.damon0[3]));
	}
}

/* Per class: the class's state pages that one of the proactive reclaims dropped. */
static const char *states_guest_class(char *buf, size_t size, const struct states_cfg *cfg, int c)
{
	if (!cfg->guest.reclaim_mib)
		return "";
	snprintf(buf, size, " class_pages_dropped_by_reclaim=%ld", proactive.class_pages_dropped[c]);
	return buf;
}

static void states_guest_parse(struct opt *opts, struct states_cfg *cfg)
{
	struct states_guest_cfg *g = &cfg->guest;
	const char *swap = opt_get(opts, "--swap");

	g->churn_dev = opt_get(opts, "--churn-dev");
	if (strcmp(swap, "on") && strcmp(swap, "off"))
		usage_error("--swap", swap);
	g->swap = !strcmp(swap, "on");
	g->reclaim_mib = opt_long(opts, "--reclaim-mib", 0, 1L << 20);
	g->reclaim_period_s = opt_long(opts, "--reclaim-period-s", 1, 3600);
	g->damon = opt_choice(opts, "--damon", damon_ops_names, DAMON_PADDR + 1);
	g->damon_min_age_s = opt_long(opts, "--damon-min-age-s", 1, 3600);
	if (g->reclaim_mib && !cfg->limit_mib)
		usage_error("--reclaim-mib needs a memcg (--limit-mib above 0)", opt_get(opts, "--limit-mib"));
	if (g->churn_dev[0] && !cfg->churn_mib)
		usage_error("--churn-dev needs --churn-mib", g->churn_dev);
}

static void states_print(const struct states_cfg *cfg, const struct states_shared *sh, long sample,
			 int pages, const char *run)
{
	for (int c = 0; c < cfg->nclasses; c++) {
		const struct state_class *cls = &cfg->cls[c];
		struct hist warm = { 0 }, zeroed = { 0 }, check = { 0 }, natural = { 0 };
		long calls = 0, zc = 0, za = 0, late = 0, skipped = 0, reseeds = 0, errors = 0;
		long lives = 0, lives_dropped = 0, with_drop = 0, on_reader = 0, zeroed_on_reader = 0;
		long refaults = 0, refaults_on_reader = 0;
		int64_t first = -1, last = -1;
		long mate_calls[MATE_BINS] = { 0 }, beside_calls = 0;
		double mate_sum[MATE_BINS] = { 0 }, beside_sum = 0;
		char q[9][32], p_drop[32], more[64], nr[3][24];
		char mates[(MATE_BINS + 1) * 96] = "", mean[32], count[24];

		for (int t = 0; t < cfg->nthreads; t++) {
			const struct state_thread *st = &sh->th[t];

			if (st->cls != c)
				continue;
			calls += st->calls;
			zc += st->zeroed;
			za += st->zeroed_absent;
			late += st->late;
			skipped += st->skipped;
			reseeds += st->natural_reseeds;
			errors += st->errors;
			lives += st->lives;
			lives_dropped += st->lives_dropped;
			on_reader += st->calls_reader_cpu;
			zeroed_on_reader += st->zeroed_reader_cpu;
			refaults += st->refaults;
			refaults_on_reader += st->refaults_reader_cpu;
			with_drop += st->zeroed > 0;
			if (st->zeroed && (first < 0 || st->first_zeroed_ns < first))
				first = st->first_zeroed_ns;
			if (st->zeroed && st->last_zeroed_ns > last)
				last = st->last_zeroed_ns;
			hist_merge(&warm, &st->warm_call);
			hist_merge(&zeroed, &st->zeroed_call);
			hist_merge(&check, &st->zeroed_check);
			hist_merge(&natural, &st->natural_call);
			for (int b = 0; b < MATE_BINS; b++) {
				mate_calls[b] += st->mate_calls[b];
				mate_sum[b] += st->mate_sum_ns[b];
			}
			beside_calls += st->beside_calls;
			beside_sum += st->beside_sum_ns;
		}
		for (int b = 0, at = 0; cfg->split_prices && b <= MATE_BINS; b++) {
			bool reader = b == MATE_BINS;	/* last: the calls beside the reader */
			long n = reader ? beside_calls : mate_calls[b];
			const char *name = reader ? "beside_reader" : "mate_";
			const char *bin = reader ? "" : mate_bin_names[b];
			bool have = !reader || cfg->churn_mib;	/* no reader: na */

			if (n && have)
				snprintf(mean, sizeof(mean), "%.0f", (reader ? beside_sum : mate_sum[b]) / n);
			at += snprintf(mates + at, sizeof(mates) - at,
				       " warm_%s%s_calls=%s warm_%s%s_ns_mean=%s", name, bin,
				       num_or_na(count, sizeof(count), have, n), name, bin,
				       n && have ? mean : "na");
		}
		printf("sample exp=states sample=%ld class=%d rate_hz=%g call=%s threads=%d class_pages=%d class_pages_shared=%d calls=%ld calls_zeroed=%ld calls_zeroed_absent=%ld calls_late=%ld deadlines_skipped=%ld call_rate_hz=%.4f key_lives=%ld key_lives_dropped=%ld p_drop_key_life=%s threads_with_drop=%ld first_zeroed_s=%s last_zeroed_s=%s kernel_reseeds=%ld call_errors=%ld warm_call_ns_p50=%s warm_call_ns_mean=%s zeroed_call_ns_p50=%s zeroed_call_ns_mean=%s zeroed_check_ns_p50=%s reseed_call_ns_p50=%s reseed_call_ns_mean=%s calls_on_reader_cpu=%s calls_zeroed_on_reader_cpu=%s refaults=%ld refaults_on_reader_cpu=%s pattern=%s layout=%s per_page=%d states_per_page=%zu pages=%d state_bytes=%u size_bytes=%ld classes=%s threads_total=%d run_s=%ld key_life_s=%ld settle_s=%ld seed=%ld%s%s%s\n",
		       sample, c, cls->rate_hz, cls->syscall ? "syscall" : "vdso", cls->threads, cls->pages,
		       cls->pages_shared, calls, zc, za,
		       late, skipped, (double)calls / cls->threads / cfg->run_s, lives, lives_dropped,
		       lives && !cls->syscall ? (snprintf(p_drop, sizeof(p_drop), "%.4f",
							  (double)lives_dropped / lives), p_drop) : "na",
		       with_drop,
		       first < 0 ? "na" : (snprintf(q[6], 32, "%.3f", first / 1e9), q[6]),
		       last < 0 ? "na" : (snprintf(q[7], 32, "%.3f", last / 1e9), q[7]),
		       reseeds, errors,
		       hist_quantile(q[0], 32, &warm, 0.5), hist_mean(q[1], 32, &warm),
		       hist_quantile(q[2], 32, &zeroed, 0.5), hist_mean(q[3], 32, &zeroed),
		       hist_quantile(q[4], 32, &check, 0.5), hist_quantile(q[5], 32, &natural, 0.5),
		       hist_mean(q[8], 32, &natural),
		       num_or_na(nr[0], sizeof(nr[0]), cfg->churn_mib, on_reader),
		       num_or_na(nr[1], sizeof(nr[1]), cfg->churn_mib, zeroed_on_reader), refaults,
		       num_or_na(nr[2], sizeof(nr[2]), cfg->churn_mib, refaults_on_reader),
		       cfg->poisson ? "poisson" : "periodic", cfg->interleaved ? "interleaved" : "grouped",
		       cfg->per_page, states_per_page(), pages, vdso.params.size_of_opaque_state,
		       cfg->size_bytes, cfg->classes, cfg->nthreads, cfg->run_s, cfg->key_life_s,
		       cfg->settle_s, cfg->seed, mates, states_guest_class(more, sizeof(more), cfg, c), run);
	}
	fflush(stdout);
}

static void states_once(struct states_cfg *cfg, long sample, int churn_fd)
{
	struct states_shared *sh = shared_alloc(sizeof(*sh));
	int64_t deadline = now_ns() + (cfg->settle_s + cfg->run_s + cfg->grace_s) * NS_PER_S;
	int64_t t0, t_end, t_stop;
	long long limit_bytes = (long long)cfg->limit_mib * MIB, churn0, churn1, peak = -1, caller_usage;
	struct child kids[3] = { 0 };	/* caller, then reader and hog if present */
	int nkids = 0, reader = -1, hog = -1, pages = states_layout(cfg, sh->th);
	struct counters before, after;
	struct memcg_watch w = { .usage_max = -1 };
	struct page_census census;
	struct page_trace tr = { .pm = -1, .kf = -1, .pages = pages };
	struct memcg cg = { 0 };
	const char *reason, *outcome = "ok";
	char run[8192], extra[COUNTERS_TEXT], guest[1024], nb[10][32], pc[3][16], pressure[48] = "";
	char tlb[64] = "", probe[256] = "", pq[4][32];

	sh->reader_cpu = -1;
	if (cfg->limit_mib && !memcg_create(&cg, limit_bytes, &reason)) {
		printf("skip exp=states reason=%s\n", reason);
		munmap(sh, sizeof(*sh));
		return;
	}
	if (cfg->guest.swap && cg.path[0])
		memcg_allow_swap(&cg);
	if (churn_fd >= 0)
		posix_fadvise(churn_fd, 0, 0, POSIX_FADV_DONTNEED);
	if (!spawn(&kids[nkids++]))
		caller_main(sh, &cg, cfg, pages, sample, deadline);
	if (!parent_wait(&sh->caller_ready, 1, kids, 1, deadline))
		outcome = kids[0].reaped ? "caller_died_starting" : "timeout_caller_start";
	caller_usage = cg.path[0] ? memcg_usage(&cg) : -1;
	/* The calls start, then the pressure; t0 is fixed now so that phases hold. */
	t0 = now_ns() + 10 * POLL_NS + cfg->settle_s * NS_PER_S;
	t_end = t0 + cfg->run_s * NS_PER_S;
	sh->t0_ns = t0;
	sh->t_end_ns = t_end;
	if (strcmp(outcome, "ok"))
		store(&sh->base.stage, STAGE_EXIT);
	__atomic_store_n(&sh->t_start_ns, t0 - cfg->settle_s * NS_PER_S, __ATOMIC_RELEASE);
	if (cfg->trace_ms && !strcmp(outcome, "ok")) {
		tr.pm = open_pagemap(kids[0].pid);
		tr.kf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
		tr.block = sh->states_block;
		if (tr.pm < 0 || tr.kf < 0)
			printf("# trace: /proc/PID/pagemap or /proc/kpageflags unreadable, no trace\n");
	}
	if (churn_fd >= 0 && !strcmp(outcome, "ok")) {
		if (!spawn(&kids[reader = nkids++]))
			reader_main(sh, &cg, churn_fd, (long long)cfg->churn_mib * MIB,
				    (long long)cfg->churn_mib_s * MIB, pressure_cpu(cfg), cfg->reader_hop_ms,
				    deadline);
		if (!parent_wait(&sh->reader_ready, 1, &kids[reader], 1, deadline))
			outcome = "reader_did_not_start";
	}
	if ((cfg->hog_mib || cfg->spike_mib) && !strcmp(outcome, "ok")) {
		if (!spawn(&kids[hog = nkids++]))
			states_hog_main(sh, &cg, cfg, deadline);
		if (!parent_wait(&sh->hog_ready, 1, &kids[hog], 1, deadline))
			outcome = kids[hog].reaped ? "hog_died_filling" : "timeout_hog_fill";
	}
	if (!strcmp(outcome, "ok") && (reason = states_guest_start(cfg, sh, &cg, kids[0].pid, pages)))
		outcome = reason;
	if (strcmp(outcome, "ok")) {
		store(&sh->base.stage, STAGE_EXIT);	/* no run */
		t0 = t_end = now_ns();
	} else if (now_ns() > t0) {
		outcome = "pressure_late";	/* the hog took longer than --settle-s */
	}
	traced_sleep_until(&tr, cfg, t0, t0);
	states_guest_window(false);
	counters_read(&cg, &before);
	churn0 = __atomic_load_n(&sh->churn_bytes, __ATOMIC_ACQUIRE);
	while (now_ns() < t_end && !child_poll(&kids[0])) {
		int64_t now = now_ns();

		if (cg.path[0])
			memcg_watch_once(&cg, limit_bytes, &w);
		traced_sleep_until(&tr, cfg, t_end - now < MONITOR_NS ? t_end : now + MONITOR_NS, t0);
	}
	if (tr.pm >= 0)
		close(tr.pm);
	if (tr.kf >= 0)
		close(tr.kf);
	t_stop = now_ns() > t0 ? now_ns() : t0 + 1;
	census = state_pages_census(kids[0].pid, sh->states_block, pages);
	churn1 = __atomic_load_n(&sh->churn_bytes, __ATOMIC_ACQUIRE);
	states_guest_window(true);
	counters_read(&cg, &after);
	states_guest_stop();
	if (cg.path[0]) {
		char file[PATH_MAX + 32];

		memcg_file(&cg, "memory.max_usage_in_bytes", "memory.peak", file);
		peak = read_ll(file);
	}
	if (!parent_wait(&sh->caller_done, 1, kids, 1, t_end + cfg->grace_s * NS_PER_S) &&
	    !strcmp(outcome, "ok"))
		outcome = kids[0].reaped ? "caller_died" : "timeout_caller";
	store(&sh->base.stage, STAGE_EXIT);
	for (int i = 0; i < nkids; i++)
		child_wait(&kids[i], now_ns() + REAP_NS);
	if (cg.path[0])
		memcg_destroy(&cg);
	counters_format(extra, sizeof(extra), &cg, &before, &after);
	states_guest_format(guest, sizeof(guest), cfg);
	if (cfg->tlb_flush_ms)
		snprintf(tlb, sizeof(tlb), " tlb_flush_ms=%ld tlb_flushes=%ld", cfg->tlb_flush_ms,
			 __atomic_load_n(&sh->tlb_flushes, __ATOMIC_ACQUIRE));
	if (cfg->probe)
		snprintf(probe, sizeof(probe),
			 " probe=1 probe_inline_calls=%llu probe_inline_call_ns_p50=%s probe_inline_call_ns_mean=%s probe_function_calls=%llu probe_function_call_ns_p50=%s probe_function_call_ns_mean=%s probe_errors=%ld",
			 (unsigned long long)sh->probe_call[PROBE_INLINE].count,
			 hist_quantile(pq[0], 32, &sh->probe_call[PROBE_INLINE], 0.5),
			 hist_mean(pq[1], 32, &sh->probe_call[PROBE_INLINE]),
			 (unsigned long long)sh->probe_call[PROBE_FUNCTION].count,
			 hist_quantile(pq[2], 32, &sh->probe_call[PROBE_FUNCTION], 0.5),
			 hist_mean(pq[3], 32, &sh->probe_call[PROBE_FUNCTION]), sh->probe_errors);
	snprintf(pressure, sizeof(pressure), "%s%s%s%s%s", churn_fd >= 0 ? "+churn" : "",
		 cfg->hog_mib ? "+hog" : "", cfg->spike_mib ? "+spike" : "",
		 cfg->guest.reclaim_mib ? "+proactive" : "", cfg->guest.damon ? "+damon" : "");
	snprintf(run, sizeof(run),
		 " pressure=%s scope=%s limit_mib=%ld churn_file_mib=%ld churn_mib_s=%ld churn_bytes_per_s=%s hog_mib=%ld spike_mib=%ld spike_period_s=%ld spike_hold_ms=%ld spikes=%d spike_fill_ns_mean=%s caller_usage_bytes=%s usage_mean_bytes=%s usage_max_bytes=%s usage_peak_bytes=%s limit_bytes=%s usage_at_limit_frac=%s inactive_file_mean_kib=%s active_file_mean_kib=%s state_pages_present_end=%s state_pages_lru_end=%s state_pages_active_end=%s caller=%s reader=%s hog=%s placement=%s reader_hop_ms=%ld outcome=%s ncpus=%ld%s%s%s%s",
		 pressure[0] ? pressure + 1 : "none", cg.path[0] ? "memcg" : "global", cfg->limit_mib,
		 churn_fd >= 0 ? cfg->churn_mib : 0, churn_fd >= 0 ? cfg->churn_mib_s : 0,
		 /* the churn rate over the window: bytes read / seconds */
		 mean_or_na(nb[0], 32, churn_fd >= 0, (double)(churn1 - churn0) * NS_PER_S, t_stop - t0),
		 cfg->hog_mib, cfg->spike_mib, cfg->spike_mib ? cfg->spike_period_s : 0,
		 cfg->spike_mib ? cfg->spike_hold_ms : 0, load(&sh->spikes),
		 mean_or_na(nb[1], 32, load(&sh->spikes), sh->spike_fill_ns, 1),
		 num_or_na(nb[9], 32, caller_usage >= 0, caller_usage),
		 mean_or_na(nb[2], 32, w.samples, w.usage_sum, 1),
		 num_or_na(nb[3], 32, w.samples, w.usage_max), num_or_na(nb[4], 32, peak >= 0, peak),
		 num_or_na(nb[5], 32, cfg->limit_mib, limit_bytes),
		 w.samples ? (snprintf(nb[6], 32, "%.3f", (double)w.at_limit / w.samples), nb[6]) : "na",
		 mean_or_na(nb[7], 32, w.samples, w.inactive_file_sum, 1024),
		 mean_or_na(nb[8], 32, w.samples, w.active_file_sum, 1024),
		 num_or_na(pc[0], 16, census.present >= 0, census.present),
		 num_or_na(pc[1], 16, census.lru >= 0, census.lru),
		 num_or_na(pc[2], 16, census.active >= 0, census.active),
		 child_fate(&kids[0]), reader >= 0 ? child_fate(&kids[reader]) : "none",
		 hog >= 0 ? child_fate(&kids[hog]) : "none", placement_names[cfg->placement],
		 cfg->reader_hop_ms, outcome, sysconf(_SC_NPROCESSORS_ONLN), tlb, probe, guest, extra);
	zeroed_log_print(cfg, sh);
	reader_log_print(sh, t0);
	states_print(cfg, sh, sample, pages, run);
	munmap(sh, sizeof(*sh));
}

/* "1000:28,0.05:28,1:1:syscall": rate_hz:threads[:syscall] per class. */
static void parse_classes(const char *arg, struct states_cfg *cfg)
{
	char buf[512], *tok, *save, *colon, *call, *end;

	if (strlen(arg) >= sizeof(buf))
		usage_error("--classes", arg);
	strcpy(buf, arg);
	cfg->nclasses = cfg->nthreads = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct state_class *c = &cfg->cls[cfg->nclasses];

		if (cfg->nclasses == MAX_CLASSES || !(colon = strchr(tok, ':')))
			usage_error("--classes (RATE_HZ:THREADS[:syscall],...)", arg);
		*colon = 0;
		if ((call = strchr(colon + 1, ':'))) {
			*call++ = 0;
			if (strcmp(call, "syscall"))
				usage_error("--classes: a class's third field can only be syscall", call);
		}
		c->syscall = call != NULL;
		errno = 0;
		c->rate_hz = strtod(tok, &end);
		if (errno || end == tok || *end || !(c->rate_hz >= 0.01 && c->rate_hz <= 10000))
			usage_error("--classes: rate outside 0.01..10000 Hz", tok);
		c->threads = parse_long("--classes: threads", colon + 1, 1, MAX_STATE_THREADS);
		cfg->nthreads += c->threads;
		cfg->nclasses++;
	}
	if (!cfg->nclasses || cfg->nthreads > MAX_STATE_THREADS)
		usage_error("--classes (at most 512 threads in all)", arg);
}

static int cmd_states(int argc, char **argv)
{
	struct opt opts[] = {
		{ "--classes", "1000:28,0.05:28" }, { "--pattern", "poisson" },
		{ "--layout", "grouped" }, { "--per-page", "0" }, { "--run-s", "60" },
		{ "--key-life-s", "60" }, { "--settle-s", "5" }, { "--grace-s", "30" },
		{ "--size-bytes", "16" }, { "--seed", "1" }, { "--samples", "1" },
		{ "--limit-mib", "256" }, { "--churn-mib", "0" }, { "--churn-dir", "/tmp" },
		{ "--churn-mib-s", "0" }, { "--hog-mib", "0" }, { "--spike-mib", "0" },
		{ "--spike-period-s", "10" }, { "--spike-hold-ms", "1000" }, { "--trace-ms", "0" },
		{ "--churn-dev", "" }, { "--swap", "off" }, { "--reclaim-mib", "0" },
		{ "--reclaim-period-s", "5" }, { "--damon", "none" }, { "--damon-min-age-s", "10" },
		{ "--placement", "any" }, { "--reader-hop-ms", "0" }, { "--tlb-flush-ms", "0" },
		{ "--probe", "0" }, { "--split-prices", "0" }, { NULL, NULL },
	};
	static struct states_cfg cfg;
	const char *pattern, *layout, *reason;
	long nsamples;
	int churn_fd = -1;

	parse_opts(argc, argv, opts);
	parse_classes(cfg.classes = opt_get(opts, "--classes"), &cfg);
	pattern = opt_get(opts, "--pattern");
	if (strcmp(pattern, "poisson") && strcmp(pattern, "periodic"))
		usage_error("--pattern", pattern);
	cfg.poisson = !strcmp(pattern, "poisson");
	layout = opt_get(opts, "--layout");
	if (strcmp(layout, "grouped") && strcmp(layout, "interleaved"))
		usage_error("--layout", layout);
	cfg.interleaved = !strcmp(layout, "interleaved");
	cfg.placement = opt_choice(opts, "--placement", placement_names, PLACE_SPLIT + 1);
	cfg.reader_hop_ms = opt_long(opts, "--reader-hop-ms", 0, 60000);
	if (cfg.reader_hop_ms && cfg.placement != PLACE_ANY)
		usage_error("--reader-hop-ms needs --placement any", opt_get(opts, "--reader-hop-ms"));
	cfg.per_page = opt_long(opts, "--per-page", 0, 4096);
	cfg.run_s = opt_long(opts, "--run-s", 1, 86400);
	cfg.key_life_s = opt_long(opts, "--key-life-s", 1, 86400);
	if (cfg.key_life_s > cfg.run_s)
		usage_error("--key-life-s longer than --run-s", opt_get(opts, "--key-life-s"));
	cfg.settle_s = opt_long(opts, "--settle-s", 0, 3600);
	cfg.grace_s = opt_long(opts, "--grace-s", 1, 3600);
	cfg.size_bytes = opt_long(opts, "--size-bytes", 1, 256);
	cfg.seed = opt_long(opts, "--seed", 0, LONG_MAX);
	nsamples = opt_long(opts, "--samples", 1, 10000);
	cfg.limit_mib = opt_long(opts, "--limit-mib", 0, 1L << 30);
	cfg.churn_mib = opt_long(opts, "--churn-mib", 0, 1L << 30);
	cfg.churn_dir = opt_get(opts, "--churn-dir");
	cfg.churn_mib_s = opt_long(opts, "--churn-mib-s", 0, 1L << 30);
	cfg.hog_mib = opt_long(opts, "--hog-mib", 0, 1L << 30);
	cfg.spike_mib = opt_long(opts, "--spike-mib", 0, 1L << 30);
	cfg.spike_period_s = opt_long(opts, "--spike-period-s", 1, 86400);
	cfg.spike_hold_ms = opt_long(opts, "--spike-hold-ms", 0, 86400000);
	cfg.trace_ms = opt_long(opts, "--trace-ms", 0, 60000);
	cfg.tlb_flush_ms = opt_long(opts, "--tlb-flush-ms", 0, 60000);
	cfg.probe = opt_long(opts, "--probe", 0, 1);
	cfg.split_prices = opt_long(opts, "--split-prices", 0, 1);
	if (cfg.spike_mib && cfg.spike_hold_ms >= cfg.spike_period_s * 1000)
		usage_error("--spike-hold-ms not shorter than --spike-period-s",
			    opt_get(opts, "--spike-hold-ms"));
	states_guest_parse(opts, &cfg);
	for (int c = 0; c < cfg.nclasses; c++)
		if (cfg.cls[c].syscall && !cfg.split_prices && (cfg.churn_mib || cfg.hog_mib || cfg.spike_mib ||
					   cfg.guest.reclaim_mib || cfg.guest.damon))
			usage_error("--classes: a syscall class times the call, with no pressure "
				    "(--churn-mib, --hog-mib, --spike-mib, --reclaim-mib 0, --damon none) "
				    "or with --split-prices 1",
				    cfg.classes);
	if (vdso.missing) {
		printf("skip exp=states reason=%s\n", vdso.missing);
		return 0;
	}
	if (cfg.reader_hop_ms && !cpus_allowed(sysconf(_SC_NPROCESSORS_ONLN))) {
		printf("skip exp=states reason=reader_hop_needs_every_cpu\n");
		return 0;
	}
	/* The caller's CPU is the highest a placement pins anyone to. */
	if (!cpus_allowed(caller_cpu(&cfg) + 1)) {
		printf("skip exp=states reason=placement_%s_needs_cpus_0_to_%d\n",
		       placement_names[cfg.placement], caller_cpu(&cfg));
		return 0;
	}
	if (vdso.params.size_of_opaque_state < GENERATION_OFFSET + sizeof(uint64_t))
		die("vgetrandom state of %u bytes: no generation word at %d",
		    vdso.params.size_of_opaque_state, GENERATION_OFFSET);
	if (!cfg.per_page)
		cfg.per_page = states_per_page();
	if ((size_t)cfg.per_page > states_per_page())
		usage_error("--per-page above the states a page holds", opt_get(opts, "--per-page"));
	if (cfg.churn_mib && (churn_fd = cfg.guest.churn_dev[0]
			      ? churn_dev_open(cfg.guest.churn_dev, cfg.churn_mib, &reason)
			      : churn_file_create(cfg.churn_dir, cfg.churn_mib, &reason)) < 0) {
		printf("skip exp=states reason=%s\n", reason);
		return 0;
	}
	for (long i = 0; i < nsamples; i++)
		states_once(&cfg, i, churn_fd);
	if (churn_fd >= 0)
		close(churn_fd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* idlecall: one call after an idle gap                                */

/*
 * What a thread that calls rarely pays for a call.  callcost times calls
 * back to back, with caches, TLB and branch predictors warm; a thread
 * calling every 20 s may meet them cold, whichever way it calls.  One
 * thread sleeps a gap, then times one call, the modes of --modes taking
 * turns (each first in turn): vdso (its state as its last vDSO call left it),
 * dropped (its state's page MADV_DONTNEEDed before the sleep and not read
 * since: the vDSO's two faults and its reseed, as an idle state dropped by
 * reclaim meets them) and syscall.  rng_moved=1: the state's generation
 * word changed across the sleep and the call, the kernel's RNG having moved
 * on since the state's last use (one or two gaps before: the vdso and
 * dropped calls share the state, the modes taking turns), so that vdso
 * call reseeded too.  --modes vdso alone makes every call a vDSO call on a
 * state last used one gap before: what a thread calling once a gap meets,
 * its key's expiries included.  One clock pair, about 23 ns, is
 * included.  --spin 1 keeps every CPU from going idle while the thread
 * sleeps, by a SCHED_IDLE spinner pinned to each (the woken thread preempts
 * it at once): how much of the cost is the CPU's own idle state, where a
 * machine under load never idles.  --companion keeps the process's own
 * calls going while the thread sleeps: the states experiment's rarely
 * calling threads, in a process whose other threads call 1000 times a
 * second, pay a third of what a lone thread pays after the same gap, and
 * spinners of another process (--spin) did not make a call cheaper.
 * companion_calls: the companions' calls during the sample's sleep and
 * call, so that a row says the process was busy.  --read-first 1 times a
 * call as the states experiment does, after its zeroed check (mincore()
 * of the page, a read of the generation word) has touched the state: what
 * that check takes off the call's time.  glibc makes no such read: its
 * __getrandom_internal() (sysdeps/unix/sysv/linux/getrandom.c, 2.41)
 * passes the thread's state pointer straight to the vDSO.  --thread 1
 * runs the command in a thread created with pthread_create()'s default
 * attributes, as a program's workers call (its stack, and the buffer the
 * call writes, an mmap()ed region like its companions', where the main
 * thread's is the process stack): in a busy process the states
 * experiment's threads, all created ones, paid a sixth of what idlecall's
 * main thread paid after the same gap.  --thread 2 creates that thread and
 * its companions with the states experiment's 64 KiB stacks, --fork 1 runs
 * it all in a forked child and --companion ...:next lays the companions'
 * states out after the timed state's: the other differences of the two
 * loops, timed.  --companion-check 1 has the companions do the states
 * loop's work around each call (a deadline, the zeroed check, clock reads,
 * sched_getcpu()): the last difference named between the loops, where
 * its busy threads made a syscall (mincore()) for every call and
 * idlecall's none.  --repeat N only labels the rows,
 * so that one setting timed in several processes (each exec()ed anew, its
 * address-space layout drawn again) says how far one process's calls
 * speak for another's.  The clock is wall time: a call the scheduler
 * preempts counts the time other threads ran, which a busy process's 28
 * companions on two CPUs can make many times the call's own (one call of
 * 130 us in 260).  --count-switches 1 counts the thread's involuntary
 * switches (ru_nivcsw) from before its sleep, where the sleep's own
 * syscall is as near, to after its clock stops: a row with none was not
 * preempted, nor between waking and its clock's start; a row with one may
 * have been preempted before its clock started.  Off by default, as the
 * rows before it were timed without the two getrusage() calls.
 * --thread-cpu 1 reads the thread's CPU clock over the same span (inside
 * the switch count's): a call dear by the wall clock but not by the
 * thread's CPU time lost its CPU without a switch, to the host (steal,
 * which this kernel's PARAVIRT_TIME_ACCOUNTING keeps out of a task's
 * runtime); one dear by both spent it on that CPU, in the call or in an
 * interrupt (without IRQ_TIME_ACCOUNTING, charged to the task it hit).
 * The span's own syscalls (the sleep's, the clock reads) add 3-200 us,
 * too much to bound a call of tens of us; --thread-cpu 2 reads the clock
 * just before the call's clock starts and after it stops, so that the
 * span is the call and two clock reads, at the price of a syscall just
 * before the call (its path is warmer than a thread waking would find
 * it: those rows time a setting of their own).
 */
enum idle_mode { IDLE_VDSO, IDLE_DROPPED, IDLE_SYSCALL, IDLE_NMODES };
static const char *const idle_names[] = { "vdso", "dropped", "syscall" };

struct spinner {
	pthread_t tid;
	int cpu;
	volatile bool *stop;
};

static void *spin_thread(void *arg)
{
	struct spinner *sp = arg;
	struct sched_param none = { 0 };
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(sp->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) ||
	    pthread_setschedparam(pthread_self(), SCHED_IDLE, &none))
		die("spinner on CPU %d: cannot pin it or make it SCHED_IDLE", sp->cpu);
	while (!*sp->stop)
		;
	return NULL;
}

struct companion {
	pthread_t tid;
	void *state;
	bool syscall;
	bool check;			/* --companion-check 1 */
	bool shared_code;		/* --call-code shared */
	double rate_hz;
	uint64_t rng;
	volatile bool *stop;
	uint64_t *calls;		/* every companion's, shared */
};

static void *companion_thread(void *arg)
{
	struct companion *c = arg;
	volatile uint64_t *generation = (volatile uint64_t *)((char *)c->state + GENERATION_OFFSET);
	void *page = (void *)((uintptr_t)c->state & ~(page_bytes - 1));
	int64_t next = now_ns();
	unsigned char buf[16];

	while (!*c->stop) {
		ssize_t got;

		if (c->check) {
			/*
			 * The states loop's work around a call (state_thread_main()):
			 * wake to a deadline, read the clock, the zeroed check
			 * (mincore() of the page, then the generation word) between
			 * clock reads, and the clock and the CPU after the call.
			 * Not its histograms nor its shared counters.
			 */
			next += exp_gap_ns(&c->rng, c->rate_hz);
			sleep_until_ns(next);
			(void)now_ns();
			(void)page_resident(page);
			(void)now_ns();
			(void)*generation;
			(void)now_ns();
		} else {
			sleep_ns(exp_gap_ns(&c->rng, c->rate_hz));
		}
		if (c->shared_code)
			(void)timed_call(c->syscall, buf, sizeof(buf), c->state, &got);
		else
			got = c->syscall ? sys_getrandom(buf, sizeof(buf))
					 : vdso_getrandom(buf, sizeof(buf), c->state);
		if (got != sizeof(buf))
			die("companion getrandom failed");
		if (c->check) {
			(void)now_ns();
			(void)sched_getcpu();
		}
		__atomic_add_fetch(c->calls, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * Where --companion's states lie: a mapping of their own, the timed state's
 * page (:shared, its page-mates), or the pages after the timed state's in
 * its mapping (:next, as the states experiment lays out its classes).
 */
enum companion_place { COMPANIONS_APART, COMPANIONS_SHARED, COMPANIONS_NEXT };

/* "none" or MODE:HZ:THREADS[:shared|:next]; returns the thread count (0 for none). */
static long parse_companion(const char *arg, bool *syscall, long *rate_hz,
			    enum companion_place *where)
{
	static const char what[] =
		"--companion (none or vdso|syscall:HZ:THREADS, vdso:HZ:THREADS:shared|next)";
	char buf[64], *rest = buf, *mode, *hz, *threads, *page;

	if (!strcmp(arg, "none"))
		return 0;
	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		usage_error(what, arg);
	mode = strsep(&rest, ":");
	hz = strsep(&rest, ":");
	threads = strsep(&rest, ":");
	page = strsep(&rest, ":");
	if (!hz || !threads || rest || (strcmp(mode, "vdso") && strcmp(mode, "syscall")))
		usage_error(what, arg);
	*syscall = !strcmp(mode, "syscall");
	*where = !page ? COMPANIONS_APART : !strcmp(page, "shared") ? COMPANIONS_SHARED
		: !strcmp(page, "next") ? COMPANIONS_NEXT : -1;
	if ((int)*where < 0 || (page && *syscall))
		usage_error(what, arg);
	*rate_hz = parse_long("--companion's HZ", hz, 1, 100000);
	return parse_long("--companion's THREADS", threads, 1, MAX_THREADS);
}

static int cmd_idlecall(int argc, char **argv);

/* The calling thread's involuntary context switches so far. */
static long thread_nivcsw(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		die("getrusage(RUSAGE_THREAD): %s", strerror(errno));
	return ru.ru_nivcsw;
}

/* The calling thread's CPU time so far, ns. */
static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		die("clock_gettime(CLOCK_THREAD_CPUTIME_ID): %s", strerror(errno));
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/*
 * --fork 1: the command again, from start to end, in a child the process
 * forks (no exec), as the states experiment's callers run.
 */
static bool idlecall_forked;

static int idlecall_in_child(int argc, char **argv)
{
	int status;
	pid_t pid;

	fflush(stdout);
	idlecall_forked = true;
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		int ret = cmd_idlecall(argc, argv);

		fflush(stdout);
		_exit(ret);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/*
 * --thread 1: the command again, from start to end, in a created thread;
 * --thread 2: the same with every thread the command creates given the
 * states experiment's STATE_STACK_BYTES stack, not pthread's default (8 MiB
 * here): its callers' stacks lie side by side, where default ones are 8 MiB
 * apart, each in page tables of its own.
 */
static bool idlecall_threaded;
static pthread_attr_t idlecall_attr;

struct idlecall_args {
	int argc;
	char **argv;
	int ret;
};

static void *idlecall_thread(void *arg)
{
	struct idlecall_args *a = arg;

	a->ret = cmd_idlecall(a->argc, a->argv);
	return NULL;
}

static int idlecall_in_thread(int argc, char **argv, long thread)
{
	struct idlecall_args a = { .argc = argc, .argv = argv };
	pthread_t tid;
	int err;

	idlecall_threaded = true;
	if ((err = pthread_attr_init(&idlecall_attr)) ||
	    (thread == 2 && (err = pthread_attr_setstacksize(&idlecall_attr, STATE_STACK_BYTES))))
		die("pthread_attr: %s", strerror(err));
	if ((err = pthread_create(&tid, &idlecall_attr, idlecall_thread, &a)))
		die("pthread_create: %s", strerror(err));
	pthread_join(tid, NULL);
	return a.ret;
}

static int cmd_idlecall(int argc, char **argv)
{
	struct opt opts[] = {
		{ "--gaps-ms", "0,1,100,1000,20000" }, { "--calls", "8" }, { "--size-bytes", "16" },
		{ "--spin", "0" }, { "--modes", "vdso,dropped,syscall" }, { "--companion", "none" },
		{ "--read-first", "0" }, { "--abs-sleep", "0" }, { "--thread", "0" }, { "--repeat", "0" },
		{ "--count-switches", "0" }, { "--thread-cpu", "0" }, { "--fork", "0" },
		{ "--companion-check", "0" }, { "--touch-buf", "0" }, { "--call-code", "none" },
		{ NULL, NULL },
	};
	static const char *const call_code_names[] = { "none", "own", "shared" };
	enum idle_mode modes[IDLE_NMODES];
	long gaps[MAX_SIZES], ncalls, size, spin, read_first, abs_sleep, thread, repeat, switches,
		cpu_clock, forked, companion_check, touch_buf;
	int call_code;			/* index in call_code_names */
	const char *modes_arg;
	char mbuf[64], named[64] = "", *rest = mbuf, *tok;
	int nmodes = 0;
	/* static: the frame must fit --thread 2's stack (the outer call of
	 * --thread returns before the inner one touches them) */
	const pthread_attr_t *attr;
	static struct spinner spinners[MAX_THREADS];
	static struct companion companions[MAX_THREADS];
	long ncompanions, companion_hz = 0;
	bool companion_syscall = false;
	enum companion_place companions_where = COMPANIONS_APART;
	size_t first_companion;	/* its state's index in states[], unless apart */
	uint64_t companion_calls = 0;
	void **companion_states = NULL;
	size_t companion_bytes = 0;
	volatile bool stop = false;
	unsigned char buf[4096];
	volatile uint64_t *generation;
	size_t map_bytes;
	void **states, *page;
	int ngaps, ncpus = 0;

	parse_opts(argc, argv, opts);
	ngaps = parse_list("--gaps-ms", opt_get(opts, "--gaps-ms"), gaps, MAX_SIZES, 0, 600000);
	ncalls = opt_long(opts, "--calls", 1, 100000);
	size = opt_long(opts, "--size-bytes", 1, 4096);
	spin = opt_long(opts, "--spin", 0, 1);
	read_first = opt_long(opts, "--read-first", 0, 1);
	abs_sleep = opt_long(opts, "--abs-sleep", 0, 1);
	thread = opt_long(opts, "--thread", 0, 2);
	repeat = opt_long(opts, "--repeat", 0, 1000000);
	switches = opt_long(opts, "--count-switches", 0, 1);
	cpu_clock = opt_long(opts, "--thread-cpu", 0, 2);
	forked = opt_long(opts, "--fork", 0, 1);
	companion_check = opt_long(opts, "--companion-check", 0, 1);
	touch_buf = opt_long(opts, "--touch-buf", 0, 1);
	call_code = opt_choice(opts, "--call-code", call_code_names, 3);
	ncompanions = parse_companion(opt_get(opts, "--companion"), &companion_syscall, &companion_hz,
				      &companions_where);
	if (companion_check && !ncompanions)
		usage_error("--companion-check 1 (companions to check: --companion MODE:HZ:THREADS)",
			    opt_get(opts, "--companion"));
	if (call_code == 2 && !ncompanions)
		usage_error("--call-code shared (companions to share it: --companion MODE:HZ:THREADS)",
			    opt_get(opts, "--companion"));
	modes_arg = opt_get(opts, "--modes");
	if (snprintf(mbuf, sizeof(mbuf), "%s", modes_arg) >= (int)sizeof(mbuf))
		usage_error("--modes (vdso, dropped, syscall, each once)", modes_arg);
	/* strsep, not strtok: an empty item (",vdso", "vdso,") is an error too. */
	while ((tok = strsep(&rest, ","))) {
		int m = 0;

		while (m < IDLE_NMODES && strcmp(tok, idle_names[m]))
			m++;
		for (int k = 0; k < nmodes && m < IDLE_NMODES; k++)
			if (modes[k] == (enum idle_mode)m)
				m = IDLE_NMODES;	/* named twice */
		if (m == IDLE_NMODES)
			usage_error("--modes (vdso, dropped, syscall, each once)", modes_arg);
		modes[nmodes++] = m;
		/* what the rows record: the modes parsed, in their turns' order */
		snprintf(named + strlen(named), sizeof(named) - strlen(named), "%s%s",
			 nmodes > 1 ? "," : "", idle_names[m]);
	}
	if (vdso.missing) {
		printf("skip exp=idlecall reason=%s\n", vdso.missing);
		return 0;
	}
	if (forked && !idlecall_forked)
		return idlecall_in_child(argc, argv);
	if (thread && !idlecall_threaded)
		return idlecall_in_thread(argc, argv, thread);
	attr = idlecall_threaded ? &idlecall_attr : NULL;	/* its threads' stacks too */
	if (spin) {
		ncpus = sysconf(_SC_NPROCESSORS_ONLN);
		if (ncpus < 1 || ncpus > MAX_THREADS || !cpus_allowed(ncpus))
			die("--spin: online CPUs (%d) outside 1..%d or not all allowed", ncpus, MAX_THREADS);
		for (int c = 0; c < ncpus; c++) {
			spinners[c] = (struct spinner){ .cpu = c, .stop = &stop };
			if (pthread_create(&spinners[c].tid, attr, spin_thread, &spinners[c]))
				die("pthread_create: %s", strerror(errno));
		}
	}
	if (vdso.params.size_of_opaque_state < GENERATION_OFFSET + sizeof(uint64_t))
		die("vgetrandom state of %u bytes: no generation word at %d",
		    vdso.params.size_of_opaque_state, GENERATION_OFFSET);
	if (companions_where == COMPANIONS_SHARED && (size_t)ncompanions + 1 > states_per_page())
		die("--companion ...:shared: %ld companions and the timed thread need more than "
		    "the %zu states of a page", ncompanions, states_per_page());
	/* shared: the companions' states are the timed state's page-mates,
	 * states[1..]; next: they fill the pages after its own, states[per page..] */
	first_companion = companions_where == COMPANIONS_NEXT ? states_per_page() : 1;
	states = states_alloc(companions_where == COMPANIONS_APART ? 1
			      : first_companion + (size_t)ncompanions, &map_bytes);
	if (!states)
		die("mapping an opaque state: %s", strerror(errno));
	page = (void *)((uintptr_t)states[0] & ~(page_bytes - 1));
	generation = (volatile uint64_t *)((char *)states[0] + GENERATION_OFFSET);
	if (vdso_getrandom(buf, size, states[0]) != size)
		die("vdso getrandom failed");
	if (ncompanions) {
		/* apart: a mapping of their own, the timed state's page its thread's alone */
		if (companions_where == COMPANIONS_APART) {
			companion_states = states_alloc(ncompanions, &companion_bytes);
			if (!companion_states)
				die("mapping the companions' states: %s", strerror(errno));
		}
		for (long c = 0; c < ncompanions; c++) {
			companions[c] = (struct companion){
				.state = companion_states ? companion_states[c]
							  : states[first_companion + c],
				.syscall = companion_syscall, .check = companion_check,
				.shared_code = call_code == 2,
				.rate_hz = companion_hz, .rng = 0x1dca11 + c, .stop = &stop,
				.calls = &companion_calls,
			};
			if (pthread_create(&companions[c].tid, attr, companion_thread, &companions[c]))
				die("pthread_create: %s", strerror(errno));
		}
	}
	for (int g = 0; g < ngaps; g++) {
		for (long i = 0; i < ncalls; i++) {
			for (int k = 0; k < nmodes; k++) {
				enum idle_mode m = modes[(i + k) % nmodes];
				uint64_t before = *generation, companion_before;
				int64_t t0, ns, cpu0 = 0;
				long nivcsw = 0;
				char preempted[24] = "na", on_cpu[24] = "na";
				int rng_moved;
				ssize_t ret;

				if (m == IDLE_DROPPED) {
					if (madvise(page, page_bytes, MADV_DONTNEED))
						die("madvise(MADV_DONTNEED): %s", strerror(errno));
					/* checked before the sleep: a mincore() after it would warm the kernel's entry */
					if (page_resident(page))
						die("state page still resident after MADV_DONTNEED");
				}
				companion_before = __atomic_load_n(&companion_calls, __ATOMIC_RELAXED);
				if (switches)
					nivcsw = thread_nivcsw();
				if (cpu_clock == 1)
					cpu0 = thread_cpu_ns();
				if (abs_sleep) {
					sleep_until_ns(now_ns() + gaps[g] * 1000000LL);
					(void)now_ns();		/* the states loop's start */
				} else {
					sleep_ns(gaps[g] * 1000000LL);
				}
				if (read_first) {
					(void)page_resident(page);
					(void)*generation;	/* a volatile load: the state's line, read */
				}
				/* the buffer's lines written, as a hot frame's would be */
				for (long b = 0; touch_buf && b < size; b += 64)
					((volatile unsigned char *)buf)[b] = 0;
				if (cpu_clock == 2)
					cpu0 = thread_cpu_ns();
				if (call_code) {
					ns = timed_call(m == IDLE_SYSCALL, buf, size, states[0], &ret);
				} else {
					t0 = now_ns();
					ret = m == IDLE_SYSCALL ? sys_getrandom(buf, size)
								: vdso_getrandom(buf, size, states[0]);
					ns = now_ns() - t0;
				}
				if (cpu_clock)
					snprintf(on_cpu, sizeof(on_cpu), "%lld",
						 (long long)(thread_cpu_ns() - cpu0));
				if (switches)
					snprintf(preempted, sizeof(preempted), "%ld", thread_nivcsw() - nivcsw);
				if (ret != size)
					die("%s getrandom after %ld ms returned %zd", idle_names[m], gaps[g], ret);
				rng_moved = *generation != before;
				printf("sample exp=idlecall mode=%s modes=%s gap_ms=%ld size_bytes=%ld spin=%ld sample=%ld ns_per_call=%lld rng_moved=%d companion=%s companion_calls=%llu read_first=%ld abs_sleep=%ld thread=%ld repeat=%ld nivcsw=%s thread_cpu_ns=%s fork=%ld companion_check=%ld touch_buf=%ld call_code=%s\n",
				       idle_names[m], named, gaps[g], size, spin, i,
				       (long long)ns, rng_moved, opt_get(opts, "--companion"),
				       (unsigned long long)(__atomic_load_n(&companion_calls, __ATOMIC_RELAXED) -
							    companion_before), read_first, abs_sleep, thread, repeat,
				       preempted, on_cpu, forked, companion_check, touch_buf,
				       call_code_names[call_code]);
			}
		}
	}
	stop = true;
	for (int c = 0; c < ncpus; c++)
		pthread_join(spinners[c].tid, NULL);
	for (long c = 0; c < ncompanions; c++)
		pthread_join(companions[c].tid, NULL);
	if (companion_states) {
		munmap(companion_states[0], companion_bytes);
		free(companion_states);
	}
	munmap(page, map_bytes);
	free(states);
	return 0;
}

/* ------------------------------------------------------------------ */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "selfcheck", cmd_selfcheck }, { "callcost", cmd_callcost }, { "reseed", cmd_reseed },
	{ "fault", cmd_fault }, { "pressure", cmd_pressure }, { "oomtouch", cmd_oomtouch },
	{ "fork", cmd_fork }, { "memlock", cmd_memlock }, { "statemem", cmd_statemem },
	{ "states", cmd_states }, { "idlecall", cmd_idlecall },
};

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "selfcheck";

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_bytes = sysconf(_SC_PAGESIZE);
	harness_pid = getpid();	/* may be 1: the harness can be a guest's init */
	install_signal_cleanup();
	vdso_init();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc > 1 ? argc - 2 : 0, argv + 2);
	usage_error("unknown subcommand", cmd);
}
