/* The guest program of make_distro_dump.sh's "-keys" dumps: adds keys with
 * known payloads to root's user keyring (which outlives this process), so
 * that the dump holds key material for the keyring erase profile's test
 * (capture/erase/profiles/keyring.conf). busybox has no keyctl; add_key(2)
 * is called directly. Built static by make_distro_dump.sh. */
#include <linux/keyctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long add_key(const char* type, const char* description, const char* payload) {
  long id = syscall(SYS_add_key, type, description, payload, strlen(payload), KEY_SPEC_USER_KEYRING);
  if (id < 0) perror(type);
  else printf("SYMBENCH: key %ld %s %s\n", id, type, description);
  return id;
}

int main(void) {
  int failed = 0;
  failed |= add_key("user", "coroner-user-key", "coroner-secret-0123456789") < 0;
  failed |= add_key("logon", "coroner:logon-key", "coroner-logon-secret-9876543210") < 0;
  /* An encrypted key (random key material, encrypted with the user key
   * "coroner-master"): its decrypted data is what the profile erases. */
  failed |= add_key("user", "coroner-master", "coroner-master-secret-abcdefghij") < 0;
  failed |= add_key("encrypted", "coroner-encrypted-key", "new user:coroner-master 32") < 0;
  return failed;
}
