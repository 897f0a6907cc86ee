/* SPDX-License-Identifier: MIT */
/*
 * gpuvm_bind_submit() through a fake ioctl that decodes every payload it
 * gets: the request and VM id, the split into ioctls (with and without
 * coalescing), where the syncs go, the statistics, and the shadow rolled
 * back when an ioctl fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <gpuvm.h>
#include <gpuvm/bind.h>

#define PG 4096ull
#define VM_ID 11

struct fake {
	uint32_t driver;
	unsigned int calls;
	unsigned int fail_on; /* 1-based call that fails, 0: none */
	int fail_ret;
	unsigned long request;
	uint32_t vm_id[16];
	size_t nops[16], nwaits[16], nsignals[16];
};

static int fake_ioctl(void *data, int fd, unsigned long request, void *arg)
{
	struct fake *f = data;
	struct gpuvm_bind_batch *b;
	const struct gpuvm_bind_sync *s;
	unsigned int i = f->calls++;
	size_t n;

	assert_int_equal(fd, 42);
	assert_true(i < 16);
	f->request = request;
	assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
	GPUVM_OPTS(gpuvm_bind_decode_opts, o, .driver = f->driver);
	assert_int_equal(gpuvm_bind_decode(&o, request, arg, b, &f->vm_id[i]), 0);
	gpuvm_bind_batch_ops(b, &f->nops[i]);
	s = gpuvm_bind_batch_syncs(b, &n);
	for (size_t k = 0; k < n; k++) {
		if (s[k].flags & GPUVM_BIND_SYNC_SIGNAL)
			f->nsignals[i]++;
		else
			f->nwaits[i]++;
	}
	gpuvm_bind_batch_destroy(b);
	return f->fail_on == f->calls ? f->fail_ret : 0;
}

static struct gpuvm_bind_dev *dev_new(uint32_t driver)
{
	struct gpuvm_bind_dev *dev;

	GPUVM_OPTS(gpuvm_bind_dev_opts, o, .driver = driver);
	assert_int_equal(gpuvm_bind_dev_create(&o, &dev), 0);
	assert_int_equal(gpuvm_bind_bo_add(dev, 1, 256 * PG, NULL), 0);
	return dev;
}

static struct gpuvm_bind_vm *vm_new(struct gpuvm_bind_dev *dev, uint32_t vm_id)
{
	struct gpuvm_bind_vm *vm;

	GPUVM_OPTS(gpuvm_bind_vm_opts, o, .vm_id = vm_id, .range = 1ull << 47);
	assert_int_equal(gpuvm_bind_vm_create(dev, &o, &vm), 0);
	return vm;
}

static struct gpuvm_bind_op pagemap(uint64_t i)
{
	return (struct gpuvm_bind_op){ .type = GPUVM_BIND_OP_MAP,
				       .handle = 1,
				       .addr = 0x100000 + i * PG,
				       .range = PG,
				       .offset = i * PG };
}

static struct gpuvm_bind_batch *pages_batch(size_t n, uint32_t flags)
{
	struct gpuvm_bind_batch *b;

	GPUVM_OPTS(gpuvm_bind_batch_opts, bo, .flags = flags);
	assert_int_equal(gpuvm_bind_batch_create(&bo, &b), 0);
	for (size_t i = 0; i < n; i++) {
		struct gpuvm_bind_op op = pagemap(i);

		assert_int_equal(gpuvm_bind_batch_add(b, &op), 0);
	}
	return b;
}

static int count_one(void *data, const struct gpuvm_bind_mapping *m)
{
	(void)m;
	++*(size_t *)data;
	return 0;
}

static size_t mappings(struct gpuvm_bind_vm *vm)
{
	size_t n = 0;

	assert_int_equal(gpuvm_verify(gpuvm_bind_vm_gpuvm(vm)), 0);
	assert_int_equal(gpuvm_bind_for_each(vm, 0, 1ull << 47, count_one, &n), 0);
	return n;
}

static uint64_t bound(struct gpuvm_bind_vm *vm)
{
	struct gpuvm_bind_residency r;

	assert_int_equal(gpuvm_bind_residency(vm, 0, 1ull << 47, &r), 0);
	return r.bound;
}

static void test_split_and_coalesce(void **state)
{
	(void)state;
	struct gpuvm_bind_driver_info info = { .sz = sizeof(info) };
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_XE);
	struct gpuvm_bind_vm *vm = vm_new(dev, VM_ID);
	struct gpuvm_bind_batch *b = pages_batch(64, 0);
	struct gpuvm_bind_submit_stats st;
	struct fake f = { .driver = GPUVM_BIND_XE };
	const struct gpuvm_bind_sync w = { .handle = 5 };
	const struct gpuvm_bind_sync sig = { .handle = 6, .flags = GPUVM_BIND_SYNC_SIGNAL };

	assert_int_equal(gpuvm_bind_driver_info(GPUVM_BIND_XE, &info), 0);
	assert_int_equal(gpuvm_bind_batch_add_sync(b, &sig), 0);
	assert_int_equal(gpuvm_bind_batch_add_sync(b, &w), 0);
	GPUVM_OPTS(gpuvm_bind_submit_opts, o, .fd = 42, .ioctl = fake_ioctl, .ioctl_data = &f,
		   .flags = GPUVM_BIND_SUBMIT_NO_COALESCE, .max_ops_per_ioctl = 16);
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), 0);
	assert_int_equal(st.ioctls, 4);
	assert_int_equal(f.calls, 4);
	assert_int_equal(st.ops_given, 64);
	assert_int_equal(st.ops_submitted, 64);
	assert_int_equal(st.ops_applied, 64);
	assert_int_equal(f.request, info.bind_request);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(f.vm_id[i], VM_ID);
		assert_int_equal(f.nops[i], 16);
		/* the wait with the first, the signal with the last */
		assert_int_equal(f.nwaits[i], i == 0);
		assert_int_equal(f.nsignals[i], i == 3);
	}
	assert_int_equal(mappings(vm), 64);
	assert_int_equal(bound(vm), 64 * PG);
	/* the batch itself was not coalesced */
	size_t n;

	gpuvm_bind_batch_ops(b, &n);
	assert_int_equal(n, 64);
	gpuvm_bind_vm_destroy(vm);

	/* coalesced: one op, one ioctl, one mapping */
	vm = vm_new(dev, VM_ID);
	memset(&f, 0, sizeof(f));
	f.driver = GPUVM_BIND_XE;
	o.flags = 0;
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), 0);
	assert_int_equal(st.ioctls, 1);
	assert_int_equal(f.calls, 1);
	assert_int_equal(st.ops_given, 64);
	assert_int_equal(st.ops_submitted, 1);
	assert_int_equal(st.ops_applied, 1);
	assert_int_equal(f.nops[0], 1);
	assert_int_equal(f.nwaits[0], 1);
	assert_int_equal(f.nsignals[0], 1);
	assert_int_equal(mappings(vm), 1);
	assert_int_equal(bound(vm), 64 * PG);
	gpuvm_bind_batch_ops(b, &n);
	assert_int_equal(n, 64);

	/* max 0: everything in one ioctl */
	memset(&f, 0, sizeof(f));
	f.driver = GPUVM_BIND_XE;
	o.flags = GPUVM_BIND_SUBMIT_NO_COALESCE;
	o.max_ops_per_ioctl = 0;
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, NULL), 0);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.nops[0], 64);
	assert_int_equal(mappings(vm), 64);
	gpuvm_bind_batch_destroy(b);
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

static void test_failing_ioctl(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_XE);
	struct gpuvm_bind_vm *vm = vm_new(dev, VM_ID);
	struct gpuvm_bind_batch *b = pages_batch(64, 0);
	struct gpuvm_bind_submit_stats st;
	struct fake f = { .driver = GPUVM_BIND_XE, .fail_on = 1, .fail_ret = -EBUSY };
	struct gpuvm_bind_op big = pagemap(0);

	/* something mapped before, that the batch replaces */
	big.range = 128 * PG;
	{
		struct gpuvm_bind_batch *pre;

		assert_int_equal(gpuvm_bind_batch_create(NULL, &pre), 0);
		assert_int_equal(gpuvm_bind_batch_add(pre, &big), 0);
		assert_int_equal(gpuvm_bind_apply(vm, pre), 0);
		gpuvm_bind_batch_destroy(pre);
	}
	GPUVM_OPTS(gpuvm_bind_submit_opts, o, .fd = 42, .ioctl = fake_ioctl, .ioctl_data = &f,
		   .flags = GPUVM_BIND_SUBMIT_NO_COALESCE, .max_ops_per_ioctl = 16);
	/* the first ioctl fails: nothing changes */
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), -EBUSY);
	assert_int_equal(st.ioctls, 1);
	assert_int_equal(st.ops_applied, 0);
	assert_int_equal(st.ops_submitted, 64);
	assert_int_equal(mappings(vm), 1);
	/* the third fails: the first two chunks stay, exactly */
	memset(&f, 0, sizeof(f));
	f = (struct fake){ .driver = GPUVM_BIND_XE, .fail_on = 3, .fail_ret = -ENOSPC };
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), -ENOSPC);
	assert_int_equal(st.ioctls, 3);
	assert_int_equal(st.ops_applied, 32);
	/* 32 page mappings and the rest of the big one */
	assert_int_equal(mappings(vm), 33);
	{
		struct gpuvm_bind_mapping m;

		assert_int_equal(gpuvm_bind_lookup(vm, 0x100000 + 32 * PG, &m), 0);
		assert_int_equal(m.addr, 0x100000 + 32 * PG);
		assert_int_equal(m.range, 96 * PG);
	}
	/* a positive return of the ioctl function is an error too */
	f = (struct fake){ .driver = GPUVM_BIND_XE, .fail_on = 1, .fail_ret = 1 };
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), -EIO);
	assert_int_equal(mappings(vm), 33);
	/* the real ioctl(2) on a bad fd: -EBADF, nothing changes */
	GPUVM_OPTS(gpuvm_bind_submit_opts, real, .fd = -1);
	assert_int_equal(gpuvm_bind_submit(vm, b, &real, &st), -EBADF);
	assert_int_equal(st.ioctls, 1);
	assert_int_equal(st.ops_applied, 0);
	assert_int_equal(mappings(vm), 33);
	gpuvm_bind_batch_destroy(b);
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

static void test_submit_edges(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_XE);
	struct gpuvm_bind_vm *vm = vm_new(dev, VM_ID);
	struct gpuvm_bind_batch *b;
	struct gpuvm_bind_submit_stats st;
	struct fake f = { .driver = GPUVM_BIND_XE };
	const struct gpuvm_bind_sync sig = { .handle = 6, .flags = GPUVM_BIND_SYNC_SIGNAL };
	struct gpuvm_bind_op bad = pagemap(0);

	GPUVM_OPTS(gpuvm_bind_submit_opts, o, .fd = 42, .ioctl = fake_ioctl, .ioctl_data = &f);
	/* empty: no ioctl */
	assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), 0);
	assert_int_equal(st.ioctls, 0);
	assert_int_equal(f.calls, 0);
	/* syncs only: one ioctl without ops (xe can) */
	assert_int_equal(gpuvm_bind_batch_add_sync(b, &sig), 0);
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), 0);
	assert_int_equal(st.ioctls, 1);
	assert_int_equal(f.nops[0], 0);
	assert_int_equal(f.nsignals[0], 1);
	/* a refused batch: no ioctl */
	bad.handle = 9;
	assert_int_equal(gpuvm_bind_batch_add(b, &bad), 0);
	memset(&st, 0xff, sizeof(st));
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), -ENOENT);
	assert_int_equal(st.ioctls, 0);
	assert_int_equal(f.calls, 1);
	/* bad options */
	o.flags = 2;
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), -EINVAL);
	assert_int_equal(gpuvm_bind_submit(vm, b, NULL, &st), -EINVAL);
	gpuvm_bind_batch_destroy(b);
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

/* nouveau: vm id 0 in the payload; adjacent regions are not merged */
static void test_submit_nouveau(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_NOUVEAU);
	struct gpuvm_bind_vm *vm = vm_new(dev, 0);
	struct gpuvm_bind_batch *b;
	struct gpuvm_bind_submit_stats st;
	struct fake f = { .driver = GPUVM_BIND_NOUVEAU };
	const struct gpuvm_bind_op ops[] = {
		{ .type = GPUVM_BIND_OP_MAP_SPARSE, .addr = 0x100000, .range = 4 * PG },
		{ .type = GPUVM_BIND_OP_MAP_SPARSE, .addr = 0x100000 + 4 * PG, .range = 4 * PG },
		{ .type = GPUVM_BIND_OP_UNMAP_SPARSE, .addr = 0x100000, .range = 4 * PG },
	};

	GPUVM_OPTS(gpuvm_bind_submit_opts, o, .fd = 42, .ioctl = fake_ioctl, .ioctl_data = &f);
	assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(gpuvm_bind_batch_add(b, &ops[i]), 0);
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), 0);
	assert_int_equal(st.ops_submitted, 3);
	assert_int_equal(f.nops[0], 3);
	assert_int_equal(f.vm_id[0], 0);
	{
		struct gpuvm_bind_residency r;

		assert_int_equal(gpuvm_bind_residency(vm, 0x100000, 8 * PG, &r), 0);
		assert_int_equal(r.sparse, 4 * PG);
		assert_int_equal(r.unmapped, 4 * PG);
	}
	gpuvm_bind_batch_destroy(b);

	/*
	 * Maps merge only within one region or one gap: a merged map across a
	 * region's edge is one the kernel refuses (-ENOSPC). Regions R1 at
	 * 0x200000 and R2 right after it, 4 pages each.
	 */
	{
		const struct gpuvm_bind_op regs[] = {
			{ .type = GPUVM_BIND_OP_MAP_SPARSE, .addr = 0x200000, .range = 4 * PG },
			{ .type = GPUVM_BIND_OP_MAP_SPARSE, .addr = 0x204000, .range = 4 * PG },
		};
		/* each pair: two touching page maps of object 1, offsets following */
		const struct {
			uint64_t addr;
			uint32_t want_ops;
		} pairs[] = {
			{ 0x203000, 2 }, /* last page of R1, first of R2 */
			{ 0x1ff000, 2 }, /* the gap before R1, then R1 */
			{ 0x205000, 1 }, /* both in R2 */
			{ 0x300000, 1 }, /* both in the gap after R2 */
		};

		assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
		for (size_t i = 0; i < 2; i++)
			assert_int_equal(gpuvm_bind_batch_add(b, &regs[i]), 0);
		assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), 0);
		assert_int_equal(st.ops_submitted, 2);
		gpuvm_bind_batch_destroy(b);
		for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
			const struct gpuvm_bind_op m0 = { .type = GPUVM_BIND_OP_MAP, .handle = 1,
							  .addr = pairs[i].addr, .range = PG,
							  .offset = 0 };
			const struct gpuvm_bind_op m1 = { .type = GPUVM_BIND_OP_MAP, .handle = 1,
							  .addr = pairs[i].addr + PG, .range = PG,
							  .offset = PG };

			assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
			assert_int_equal(gpuvm_bind_batch_add(b, &m0), 0);
			assert_int_equal(gpuvm_bind_batch_add(b, &m1), 0);
			assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), 0);
			assert_int_equal(st.ops_submitted, pairs[i].want_ops);
			assert_int_equal(st.ops_applied, pairs[i].want_ops);
			gpuvm_bind_batch_destroy(b);
		}
		/* a batch that adds a region: its maps are not merged at all */
		{
			const struct gpuvm_bind_op ops2[] = {
				{ .type = GPUVM_BIND_OP_MAP_SPARSE, .addr = 0x400000, .range = 4 * PG },
				{ .type = GPUVM_BIND_OP_MAP, .handle = 1, .addr = 0x400000,
				  .range = PG },
				{ .type = GPUVM_BIND_OP_MAP, .handle = 1, .addr = 0x401000,
				  .range = PG, .offset = PG },
			};

			assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
			for (size_t i = 0; i < 3; i++)
				assert_int_equal(gpuvm_bind_batch_add(b, &ops2[i]), 0);
			assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), 0);
			assert_int_equal(st.ops_submitted, 3);
			gpuvm_bind_batch_destroy(b);
		}
	}
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_and_coalesce),
		cmocka_unit_test(test_failing_ioctl),
		cmocka_unit_test(test_submit_edges),
		cmocka_unit_test(test_submit_nouveau),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
