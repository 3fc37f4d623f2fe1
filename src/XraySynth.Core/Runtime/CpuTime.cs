using System.Diagnostics;
using System.Runtime.InteropServices;

namespace XraySynth.Runtime;

/// <summary>CPU-time clocks for measurements that must mean something on a loaded machine: wall time there counts
/// the waits for a core, CPU time only the work. Linux (clock_gettime, getrusage); elsewhere the thread clock falls
/// back to wall time and the children's time is unknown.</summary>
public static partial class CpuTime
{
    private const int ClockThreadCpuTimeId = 3;
    private const int RusageChildren = -1;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Seconds; public long Nanoseconds; }

    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NvCsw, NivCsw;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, out Rusage usage);

    /// <summary>Seconds of CPU the calling thread has used (wall seconds where there is no thread clock).</summary>
    public static double Thread()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(ClockThreadCpuTimeId, out var t) == 0) return t.Seconds + t.Nanoseconds * 1e-9;
        return Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
    }

    /// <summary>User and system seconds of every child process that has ended and been waited for; null off Linux.</summary>
    public static (double User, double System)? Children()
    {
        if (!OperatingSystem.IsLinux() || GetRusage(RusageChildren, out var u) != 0) return null;
        return (u.UserSeconds + u.UserMicroseconds * 1e-6, u.SystemSeconds + u.SystemMicroseconds * 1e-6);
    }
}
