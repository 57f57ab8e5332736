"""The key material the keyring erase profile must erase, as drgn sees it:
a line "ADDRESS SIZE" per user or logon key's payload data and per
encrypted key's decrypted data, in key_serial_tree order.

usage: /usr/bin/python3 keyring_payloads.py VMLINUX DUMP   (Debian's python3-drgn)
"""
import sys

import drgn
from drgn.helpers.linux.rbtree import rbtree_inorder_for_each_entry

prog = drgn.Program()
prog.set_core_dump(sys.argv[2])
prog.load_debug_info([sys.argv[1]])
for key in rbtree_inorder_for_each_entry("struct key", prog["key_serial_tree"].address_of_(), "serial_node"):
    kind = key.type.name.string_().decode()
    payload = key.payload.rcu_data0
    if not payload:
        continue
    if kind in ("user", "logon"):
        user = drgn.cast("struct user_key_payload *", payload)
        print(hex(user.data.address_of_().value_()), int(user.datalen))
    elif kind == "encrypted":
        encrypted = drgn.cast("struct encrypted_key_payload *", payload)
        print(hex(encrypted.decrypted_data.value_()), int(encrypted.decrypted_datalen))
