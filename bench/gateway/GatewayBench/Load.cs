using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Flare.Bench.Gateway;

/// <summary>Where requests go: the upstream directly, or a Flare process (with its pid, for CPU and memory).</summary>
internal sealed class Target : IDisposable
{
    public Target(string name, string baseUrl, int pid, string? key)
    {
        Name = name;
        BaseUrl = baseUrl.TrimEnd('/');
        Pid = pid;
        Client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            MaxConnectionsPerServer = Load.Connections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(30),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        })
        { Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }

    public string Name { get; }
    public string BaseUrl { get; }
    public int Pid { get; }
    public HttpClient Client { get; }
    public bool IsFlare => Pid > 0;

    public void Dispose() => Client.Dispose();
}

/// <summary>One request's outcome: latency to the last byte, time to the first content chunk (streams), Flare's header.</summary>
internal readonly record struct Sample(bool Ok, double Ms, double TtftMs, double OverheadMs);

/// <summary>Samples of one target in one kind of phase, summed over rounds.</summary>
internal sealed class Phase(string target)
{
    public string Target { get; } = target;
    public List<double> Ms { get; } = [];
    public List<double> Ttft { get; } = [];
    public List<double> Overhead { get; } = [];
    public int Requests { get; set; }
    public int Errors { get; set; }
    public double Seconds { get; set; }
    public double CpuSeconds { get; set; }

    public void Add(Sample s)
    {
        Requests++;
        if (!s.Ok)
        {
            Errors++;
            return;
        }

        Ms.Add(s.Ms);
        if (s.TtftMs >= 0)
        {
            Ttft.Add(s.TtftMs);
        }

        if (s.OverheadMs >= 0)
        {
            Overhead.Add(s.OverheadMs);
        }
    }

    public double Throughput => (Requests - Errors) / Seconds;
}

internal static class Load
{
    public const int Connections = 64;

    private static readonly byte[] ChatBody = Encoding.UTF8.GetBytes(
        """{"model":"bench","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello."}],"max_tokens":16}""");

    private static readonly byte[] StreamBody = Encoding.UTF8.GetBytes(
        """{"model":"bench","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello."}],"max_tokens":16,"stream":true}""");

    private static readonly byte[] ContentMarker = "\"content\""u8.ToArray();
    private static readonly byte[] DoneMarker = "data: [DONE]"u8.ToArray();

    /// <summary>Sends one small chat request and reads the whole answer.</summary>
    public static async Task<Sample> SendAsync(Target target, bool stream)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, target.BaseUrl + "/chat/completions")
            {
                Content = new ByteArrayContent(stream ? StreamBody : ChatBody),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await target.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var overhead = response.Headers.TryGetValues("x-flare-overhead-ms", out var values)
                ? double.Parse(values.First(), CultureInfo.InvariantCulture)
                : -1;
            await using var body = await response.Content.ReadAsStreamAsync();
            var length = 0;
            var ttft = -1.0;
            int n;
            while ((n = await body.ReadAsync(buffer.AsMemory(length))) > 0)
            {
                length += n;
                if (stream && ttft < 0 && buffer.AsSpan(0, length).IndexOf(ContentMarker) >= 0)
                {
                    ttft = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }

                if (length == buffer.Length)
                {
                    return new Sample(false, 0, -1, -1);
                }
            }

            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var whole = buffer.AsSpan(0, length);
            // A stream ends with [DONE]; its usage chunk reaches only clients that ask for it (stream_options.include_usage),
            // as with OpenAI, so only answers that are not streamed must carry usage.
            var ok = response.IsSuccessStatusCode && (stream ? ttft >= 0 && whole.IndexOf(DoneMarker) >= 0 : whole.IndexOf("\"usage\""u8) >= 0);
            return new Sample(ok, ms, ttft, overhead);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            return new Sample(false, 0, -1, -1);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Opens all connections of the target's pool and lets the JIT see both request kinds.</summary>
    public static async Task WarmUpAsync(Target target, int rounds)
    {
        for (var r = 0; r < rounds; r++)
        {
            var batch = Enumerable.Range(0, Connections).Select(i => SendAsync(target, stream: i % 4 == 0));
            await Task.WhenAll(batch);
        }
    }

    /// <summary>
    /// Open loop: request i is sent at start + i / rate whatever happened to the earlier ones (a dedicated
    /// thread wakes every millisecond and sends every request that is due), over at most
    /// <see cref="Connections"/> connections. Latency runs from the send to the last byte read.
    /// </summary>
    public static void OpenLoop(Target target, double rate, double seconds, bool stream, Phase into)
    {
        var count = (int)(rate * seconds);
        var tasks = new Task<Sample>[count];
        var cpuBefore = Proc.CpuSeconds(target.Pid);
        var start = Stopwatch.GetTimestamp();
        var dispatcher = new Thread(() =>
        {
            for (var i = 0; i < count; i++)
            {
                var due = start + (long)(i * Stopwatch.Frequency / rate);
                while (Stopwatch.GetTimestamp() < due)
                {
                    Thread.Sleep(1);
                }

                tasks[i] = SendAsync(target, stream);
            }
        })
        { IsBackground = true, Priority = ThreadPriority.AboveNormal };
        dispatcher.Start();
        if (!dispatcher.Join(TimeSpan.FromSeconds(seconds * 3 + 10)))
        {
            throw new TimeoutException("The dispatcher fell far behind its schedule.");
        }

        if (!Task.WaitAll(tasks, TimeSpan.FromSeconds(60)))
        {
            throw new TimeoutException("Requests still open 60 s after the last was sent.");
        }

        into.Seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
        into.CpuSeconds += Proc.CpuSeconds(target.Pid) - cpuBefore;
        foreach (var t in tasks)
        {
            into.Add(t.Result);
        }
    }

    /// <summary>Closed loop: each of <see cref="Connections"/> workers sends its next request when the last one is answered.</summary>
    public static Task ClosedLoopAsync(Target target, double seconds, int maxRequests, Phase into) =>
        ClosedLoopAsync([target], seconds, maxRequests, into);

    /// <summary>Closed loop over several targets (the hosts behind one name): worker w sends to target w mod n, so the
    /// <see cref="Connections"/> connections are spread evenly, as a balancer with a connection per client would.</summary>
    public static async Task ClosedLoopAsync(IReadOnlyList<Target> targets, double seconds, int maxRequests, Phase into)
    {
        double Cpu() => targets.Sum(t => Proc.CpuSeconds(t.Pid));
        var cpuBefore = Cpu();
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(seconds * Stopwatch.Frequency);
        var sent = 0;
        var samples = new List<Sample>[Connections];
        var workers = Enumerable.Range(0, Connections).Select(async w =>
        {
            var mine = samples[w] = new List<Sample>(4096);
            var target = targets[w % targets.Count];
            while (Stopwatch.GetTimestamp() < deadline && Interlocked.Increment(ref sent) <= maxRequests)
            {
                mine.Add(await SendAsync(target, stream: false));
            }
        }).ToArray();
        await Task.WhenAll(workers);
        into.Seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
        into.CpuSeconds += Cpu() - cpuBefore;
        foreach (var s in samples.SelectMany(x => x))
        {
            into.Add(s);
        }
    }
}

internal static class Stats
{
    /// <summary>The <paramref name="p"/> quantile (nearest rank) of <paramref name="values"/>; NaN when there are none.</summary>
    public static double Pct(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.ToArray();
        Array.Sort(sorted);
        return sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }
}

/// <summary>What /proc says about a process (Linux only).</summary>
internal static class Proc
{
    /// <summary>User + system CPU time in seconds (clock ticks of 1/100 s), 0 for pid 0.</summary>
    public static double CpuSeconds(int pid)
    {
        if (pid <= 0)
        {
            return 0;
        }

        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14 and 15 of stat(5) (utime, stime); the split starts at field 3.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>CPU time all cores spent busy since boot, in seconds (/proc/stat: all but idle and iowait).</summary>
    public static double MachineBusySeconds()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var ticks = fields.Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        return (ticks.Sum() - ticks[3] - ticks[4]) / 100.0;
    }

    /// <summary>A line of /proc/PID/status in MiB (VmRSS, RssAnon, VmHWM...).</summary>
    public static double StatusMiB(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var kb = long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
        }

        return double.NaN;
    }

    /// <summary>CPU seconds of <paramref name="pid"/> and all its children (a PostgreSQL server and its backends).</summary>
    public static double TreeCpuSeconds(int pid)
    {
        if (pid <= 0)
        {
            return 0;
        }

        var total = 0.0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var candidate))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // Field 4 of stat(5) is the parent; the split after the command starts at field 3.
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                if (candidate == pid || parent == pid)
                {
                    total += CpuSeconds(candidate);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        return total;
    }
}
