/* backup.c: tpcctl backup's file side: write a store copy, check it, put it in place. */
#define BACKUP_FORMAT	"1"	/* the store format (meta "format") this tpcctl expects */
int	backup_save(const char *path, const void *data, size_t len, char *msg, size_t msglen);
