#include "analyzer/os/linux/printk_log.hpp"
