#!/usr/bin/env python3
"""Top inclusive busy frames of a speedscope file written by `dotnet-trace convert --format Speedscope`.

usage: speedscope_top.py FILE [--top N] [--requests R] [--cpu-us US]

The EventPipe sample profiler (dotnet-trace --profile dotnet-sampled-thread-time) samples every managed thread, idle
or not, and TraceEvent ends each stack with a pseudo-frame (CPU_TIME: in managed code; UNMANAGED_CODE_TIME: in native
code, a wait, a syscall, the GC, OpenSSL...). A sample counts as busy unless its deepest managed frame is a known
idle point: thread-pool semaphores and spinning, any .Wait( (Monitor, ManualResetEventSlim, Task...), the socket event
loop, file-watcher reads, GC or sampler suspension (PollGC), the finalizer thread's wait (RunFinalizers, and
GetMemoryPressure/GetGCMemoryInfo under the array pools' Gen2 trim, where it sits for seconds), unknown '?!?' stacks;
a thread that sits in one other frame for most of the trace is reported as a probable unknown wait. A frame's
inclusive time is the busy time with that frame on the stack (counted once per sample, even when recursive).
Native-only threads (GC, JIT) are not sampled, so busy time is less than the process's CPU time; runnable threads
waiting for a core count as busy.

Prints, for frames of McpAuth.* and Microsoft.AspNetCore.Authentication* (and, for context, Authorization*), the
inclusive busy time, its share of all busy time and, with --requests (requests served during the trace), that time per
request in microseconds; --cpu-us (the process's CPU microseconds per request over the trace window, from /proc) is
printed next to the sampled busy time per request for comparison. Then the top self (exclusive) busy frames overall.
Async methods appear twice (the method and its state machine's MoveNext); a middleware's frame includes everything
after it that ran synchronously (the endpoint too); a continuation that resumes an inner async method does not have
its callers on the stack. Read the figures as a ranking, not as exact costs.
"""
import argparse
import collections
import json
import re
import sys

IDLE = re.compile(
    r"(\.Wait\(|WaitNative|WaitForSignal|WaitOne\w*\(|WaitForSocketEvents|Thread\.Sleep|SleepInternal|"
    r"Interop\+Sys\.Read\(|FileSystemWatcher\+RunningInstance\.TryReadEvent|WorkerThreadStart\(\)|"
    r"Thread\.StartCallback\(|PollGC|Monitor\.Enter_Slowpath|GC\.RunFinalizers\(|GC\.GetGCMemoryInfo\(|"
    r"Utilities\.GetMemoryPressure\()|^\?!\?$")
PSEUDO = {"CPU_TIME", "UNMANAGED_CODE_TIME"}
INTEREST = re.compile(r"^(McpAuth\.|Microsoft\.AspNetCore\.Authentication|Microsoft\.AspNetCore\.Authorization)")


def split(name):
    module, _, method = name.partition("!")
    return (module, method) if method else ("", name)


def interesting(name):
    module, method = split(name)
    return bool(INTEREST.match(module) or INTEREST.match(method))


def short(name, width=150):
    module, method = split(name)
    method = re.sub(r"\(.*\)$", "()", method)           # drop the parameter list
    method = re.sub(r"\[System\.__Canon(,System\.__Canon)*\]", "", method)
    text = f"{module}!{method}" if module else method
    return text if len(text) <= width else text[: width - 1] + "…"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--requests", type=float, default=0, help="requests served during the trace")
    parser.add_argument("--cpu-us", type=float, default=0, help="process CPU us per request over the trace window")
    args = parser.parse_args()

    with open(args.file, encoding="utf-8") as f:
        data = json.load(f)
    names = [fr["name"] for fr in data["shared"]["frames"]]
    idle_frame = [bool(IDLE.search(n)) for n in names]
    incl = collections.Counter()
    self_ = collections.Counter()
    busy_total = 0.0
    sampled_total = 0.0
    thread_self = collections.Counter()
    span = 0.0
    for profile in data["profiles"]:
        if profile.get("type") != "evented":
            continue
        span = max(span, profile.get("endValue", 0) - profile.get("startValue", 0))
        stack = []
        last = None
        for event in profile["events"]:
            at = event["at"]
            if last is not None and stack and at > last:
                dt = at - last
                sampled_total += dt
                leaf = names[stack[-1]]
                managed = [f for f in stack if names[f] not in PSEUDO]
                busy = leaf in PSEUDO and bool(managed) and not idle_frame[managed[-1]]
                if busy:
                    busy_total += dt
                    for f in set(managed):
                        incl[f] += dt
                    self_[managed[-1]] += dt
                    thread_self[(profile.get("name", "?"), managed[-1])] += dt
            last = at
            if event["type"] == "O":
                stack.append(event["frame"])
            else:
                frame = event["frame"]
                for i in range(len(stack) - 1, -1, -1):
                    if stack[i] == frame:
                        del stack[i]
                        break

    if busy_total == 0:
        print("no busy samples in", args.file)
        return 1

    per_request = args.requests > 0
    print(f"busy sampled thread time: {busy_total:.0f} ms of {sampled_total:.0f} ms sampled")
    for (thread, f), v in thread_self.items():
        if span > 0 and v > 0.5 * span:
            print(f"warning: {thread} sat in one frame for {v:.0f} of {span:.0f} ms, probably a wait this script does not"
                  f" know (add it to IDLE): {short(names[f])}")
    if per_request:
        print(f"per request: {1000 * busy_total / args.requests:.1f} us busy sampled thread time"
              + (f" vs {args.cpu_us:.1f} us process CPU (/proc; the difference is mostly native: GC, JIT, kernel)" if args.cpu_us > 0 else "")
              + f"; {args.requests:.0f} requests during the trace")
    print()
    head = f"{'incl ms':>9} {'% busy':>7}" + (f" {'us/req':>7}" if per_request else "") + "  frame (McpAuth.*, Microsoft.AspNetCore.Authentication*, Authorization*)"
    print(head)
    rows = sorted(((v, f) for f, v in incl.items() if interesting(names[f])), reverse=True)[: args.top]
    for v, f in rows:
        line = f"{v:9.1f} {100 * v / busy_total:6.2f}%"
        if per_request:
            line += f" {1000 * v / args.requests:7.2f}"
        print(f"{line}  {short(names[f])}")
    print()
    print(f"{'self ms':>9} {'% busy':>7}  top self (exclusive) busy frames, all code")
    for f, v in self_.most_common(15):
        print(f"{v:9.1f} {100 * v / busy_total:6.2f}%  {short(names[f])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
