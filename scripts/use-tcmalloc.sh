# Sourced by ./xraysynth and scripts/test.sh just before they start .NET: preloads tcmalloc for the torch process
# (libtorch's large CPU buffers are reused instead of being mapped and unmapped by glibc malloc on every step; 64 px
# GAN training spent a quarter of its CPU time in page faults; figures in docs/benchmarks.md). scripts/ensure-tcmalloc.sh
# finds it or installs it once where it can; without it nothing changes. XRAYSYNTH_MALLOC=glibc turns it off. tcmalloc's
# report of allocations above 1 GiB (normal for torch) is silenced unless the user set a threshold.
if [ "${XRAYSYNTH_MALLOC:-tcmalloc}" != "glibc" ] && tcmalloc=$("$root/scripts/ensure-tcmalloc.sh") && [ -n "$tcmalloc" ]; then
  case ":${LD_PRELOAD:-}:" in
    *":$tcmalloc:"*) ;;
    *) export LD_PRELOAD="$tcmalloc${LD_PRELOAD:+:$LD_PRELOAD}" ;;
  esac
  export TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD="${TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD:-1099511627776}"
fi
