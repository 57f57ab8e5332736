/* The guest program of make_distro_dump.sh's "-dmcrypt" dumps: sets up
 * dm-crypt devices with known keys over loop devices as cryptsetup would,
 * through the device-mapper's ioctls (busybox has no dmsetup), so that the
 * dump holds dm-crypt's key material for the dm-crypt erase profile's test
 * (capture/erase/profiles/dm-crypt.conf).
 *   add_dm_crypt SECTORS xts     coroner-crypt over /dev/loop0:
 *                                aes-xts-plain64 with a 64-byte key (AES-256
 *                                for the data, AES-256 for the tweak)
 *   add_dm_crypt SECTORS essiv   coroner-essiv over /dev/loop1:
 *                                aes-cbc-essiv:sha256 with a 32-byte key
 *   add_dm_crypt SECTORS reload  coroner-crypt's second table, another key,
 *                                left inactive (as `dmsetup reload` or a
 *                                resize leave one until the resume)
 * A device is DM_DEV_CREATE, DM_TABLE_LOAD (one crypt target), then
 * DM_DEV_SUSPEND without DM_SUSPEND_FLAG (resume: the table goes live),
 * then a write through it. Every ioctl sets DM_SECURE_DATA_FLAG, as
 * cryptsetup does, so the kernel wipes its copy of the table (the key in
 * hex) after use. The keys are only here in hex: their binary bytes are in
 * the kernel alone. Built static by make_distro_dump.sh. */
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* tests/analyzer/frontends/erase_offsets/test_erase_dm_crypt.cpp knows the keys too. */
struct table {
  const char* mode;  /* the command line's */
  const char* name;
  const char* loop;
  const char* cipher;
  const char* key;
};

static const struct table kTables[] = {
    {"xts", "coroner-crypt", "/dev/loop0", "aes-xts-plain64",
     "daf9114227e9948bb21ef4a1d1f32073c6506a79e6ff19aa3e811e7173ef6a20"
     "55cf55a02484ecb12a358372d422036f53d5474aa29b0eead2cd04e7a43ebf13"},
    {"essiv", "coroner-essiv", "/dev/loop1", "aes-cbc-essiv:sha256",
     "1eec1e4e147709e3a95e2c25fd7add78d62aa4cdb0c9d779a6a2d68ef98020eb"},
    {"reload", "coroner-crypt", "/dev/loop0", "aes-xts-plain64",
     "4c110e7c687e041a5b28183e78126344798c1a229d6e1a30f568a2d1c7452a58"
     "09ff4f04d83bdf39fde3b9ef7c69a89cd618ff92b9aadae552c11e4965e4a3c5"},
};

/* The dm_ioctl header, then (table load) the target spec and its parameters. */
union request {
  struct dm_ioctl io;
  char bytes[16384];
};

static void init_request(union request* r, const char* name) {
  memset(r, 0, sizeof(*r));
  r->io.version[0] = DM_VERSION_MAJOR;
  r->io.version[1] = 0;
  r->io.version[2] = 0;
  r->io.data_size = sizeof(*r);
  r->io.data_start = sizeof(struct dm_ioctl);
  r->io.flags = DM_SECURE_DATA_FLAG;
  snprintf(r->io.name, sizeof(r->io.name), "%s", name);
}

static int call(int control, unsigned long command, const char* what, union request* r) {
  if (ioctl(control, command, r) < 0) {
    perror(what);
    return -1;
  }
  return 0;
}

/* DM_TABLE_LOAD: one crypt target over the loop device `loop`. */
static int load_table(int control, union request* r, unsigned long long sectors, const struct table* t, dev_t loop) {
  init_request(r, t->name);
  r->io.target_count = 1;
  struct dm_target_spec* spec = (struct dm_target_spec*)(r->bytes + sizeof(struct dm_ioctl));
  spec->sector_start = 0;
  spec->length = sectors;
  strcpy(spec->target_type, "crypt");
  char* params = (char*)(spec + 1);
  snprintf(params, sizeof(*r) - (size_t)(params - r->bytes), "%s %s 0 %u:%u 0", t->cipher, t->key, major(loop),
           minor(loop));
  return call(control, DM_TABLE_LOAD, "DM_TABLE_LOAD", r);
}

/* Plain text through the device: in its page cache, the cipher text in the loop file's. */
static int write_through(dev_t device) {
  char path[64];
  snprintf(path, sizeof(path), "/dev/dm-%u", minor(device));
  int out = open(path, O_WRONLY);
  if (out < 0) {
    perror(path);
    return -1;
  }
  static char block[65536];
  for (size_t i = 0; i + 32 <= sizeof(block); i += 32) memcpy(block + i, "coroner-dm-crypt-plain-text-0123", 32);
  if (write(out, block, sizeof(block)) != (ssize_t)sizeof(block) || fsync(out) < 0) {
    perror(path);
    return -1;
  }
  close(out);
  printf("SYMBENCH: dm-crypt wrote %zu bytes to %s\n", sizeof(block), path);
  return 0;
}

int main(int argc, char** argv) {
  unsigned long long sectors = argc > 2 ? strtoull(argv[1], NULL, 10) : 0;
  const struct table* t = NULL;
  for (size_t i = 0; argc > 2 && i < sizeof(kTables) / sizeof(kTables[0]); ++i)
    if (strcmp(argv[2], kTables[i].mode) == 0) t = &kTables[i];
  struct stat loop;
  if (sectors == 0 || t == NULL) {
    fprintf(stderr, "usage: add_dm_crypt SECTORS xts|essiv|reload\n");
    return 2;
  }
  if (stat(t->loop, &loop) < 0) {
    perror(t->loop);
    return 1;
  }
  int control = open("/dev/mapper/control", O_RDWR);
  if (control < 0) {
    perror("/dev/mapper/control");
    return 1;
  }
  static union request r;
  if (strcmp(t->mode, "reload") == 0) {
    if (load_table(control, &r, sectors, t, loop.st_rdev) < 0) return 1;
    printf("SYMBENCH: dm-crypt %s has an inactive table\n", t->name);
    return 0;
  }
  init_request(&r, t->name);
  if (call(control, DM_DEV_CREATE, "DM_DEV_CREATE", &r) < 0) return 1;
  dev_t device = r.io.dev;
  if (load_table(control, &r, sectors, t, loop.st_rdev) < 0) return 1;
  init_request(&r, t->name);
  if (call(control, DM_DEV_SUSPEND, "DM_DEV_SUSPEND (resume)", &r) < 0) return 1;
  printf("SYMBENCH: dm-crypt %s (%s) up as %u:%u\n", t->name, t->cipher, major(device), minor(device));
  return write_through(device) < 0;
}
