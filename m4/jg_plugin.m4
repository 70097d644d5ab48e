dnl JG_PLUGIN(NAME, DEFAULT, HELP, DEPENDENCY-TEST)
dnl
dnl One macro per plugin, collectd style.  --enable-NAME takes auto, yes or
dnl no.  DEPENDENCY-TEST is shell code that sets jg_deps=no when a library
dnl the plugin needs is missing.  Asking for a plugin whose libraries are
dnl missing is an error; auto quietly skips it.  Each plugin gets an
dnl automake conditional BUILD_PLUGIN_NAME and a line in the summary.
AC_DEFUN([JG_PLUGIN], [
  m4_pushdef([jg_opt], m4_translit([$1], [_], [-]))
  m4_pushdef([jg_var], [enable_]m4_translit([$1], [-], [_]))
  m4_pushdef([jg_cond], [BUILD_PLUGIN_]m4_toupper(m4_translit([$1], [-], [_])))
  AC_ARG_ENABLE(jg_opt,
    AS_HELP_STRING([--enable-]jg_opt, [$3 (auto, yes or no; default: $2)]),
    [], [jg_var=$2])
  jg_deps=yes
  if test "x$jg_var" != xno; then
    $4
    if test "x$jg_deps" = xno; then
      if test "x$jg_var" = xyes; then
        AC_MSG_ERROR([plugin ]jg_opt[ was requested but a library it needs is missing])
      fi
      jg_var=no
    else
      jg_var=yes
    fi
  fi
  AM_CONDITIONAL(jg_cond, [test "x$jg_var" = xyes])
  jg_summary="$jg_summary
    m4_format([%-16s], jg_opt) $jg_var"
  m4_popdef([jg_cond])
  m4_popdef([jg_var])
  m4_popdef([jg_opt])
])
