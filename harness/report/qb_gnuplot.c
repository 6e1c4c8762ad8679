#include "qb_gnuplot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char* qb_plots_dir(void) {
  const char* env = getenv("QB_PLOTS_DIR");
  return env && *env ? env : QB_SOURCE_PLOTS_DIR;
}

int qb_gnuplot_render(const char* script_name, const char* datafile, const char* outfile,
                      qb_error* err) {
  return qb_gnuplot_render_vars(script_name, datafile, outfile, NULL, err);
}

void qb_gnuplot_quote(const char* text, char* buf, size_t size) {
  size_t n = 0;
  for (; *text && n + 1 < size; text++)
    buf[n++] = *text == '\'' || *text == '"' ? ' ' : *text == '\\' ? '/' : *text;
  if (size) buf[n] = '\0';
}

int qb_gnuplot_render_vars(const char* script_name, const char* datafile, const char* outfile,
                           const char* extra_vars, qb_error* err) {
  if (strchr(datafile, '\'') || strchr(outfile, '\'') || strchr(qb_plots_dir(), '\''))
    return qb_fail(err, "plot paths must not contain a single quote: %s, %s", datafile, outfile);
  char vars[12600], script[4200];
  snprintf(vars, sizeof vars, "datafile='%s'; outfile='%s'; plotsdir='%s'; %s", datafile, outfile,
           qb_plots_dir(), extra_vars ? extra_vars : "");
  snprintf(script, sizeof script, "%s/%s", qb_plots_dir(), script_name);
  const pid_t pid = fork();
  if (pid < 0) return qb_fail(err, "cannot start gnuplot: %s", strerror(errno));
  if (pid == 0) {
    execlp("gnuplot", "gnuplot", "-e", vars, script, (char*)NULL);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return qb_fail(err, "waiting for gnuplot: %s", strerror(errno));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return qb_fail(err, "gnuplot is not installed (apt-get install gnuplot-nox)");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return qb_fail(err, "gnuplot failed on %s (exit status %d)", script, WEXITSTATUS(status));
  return 0;
}
