// Benchmark of the Flare LLM emulator through real HTTP against a separate emulator process.
// usage: EmulatorBench --url http://127.0.0.1:PORT --pid EMULATOR_PID [--data ../shared/data]
// The emulator must serve backends "acc" (llama-3-8b@h100x1, time scale 1), "sweep" (llama-2-7b@a100x1,
// time scale 10) and "load" (llama-3-8b@h100x1, time scale 1); run.sh starts it that way.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Flare.Emulator.Profiles;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
string url = "", data = "../shared/data";
var pid = 0;
for (var i = 0; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "--url": url = args[++i].TrimEnd('/'); break;
        case "--pid": pid = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--data": data = args[++i]; break;
    }
}

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { Timeout = TimeSpan.FromMinutes(10) };
var emulator = Process.GetProcessById(pid);
const double WakeDelayMs = 2.0; // EmulatorBackendOptions.WakeDelayMs default, used by run.sh's backends

// 1. Accuracy: bursts of c identical requests at time scale 1 vs the closed-form prediction.
var acc = EmulatorProfiles.TryGet("llama-3-8b@h100x1", out var accProfile) ? accProfile : throw new InvalidOperationException();
var health = new List<double>();
for (var i = 0; i < 50; i++)
{
    var t0 = Stopwatch.GetTimestamp();
    using var _ = await http.GetAsync($"{url}/acc/health");
    if (i >= 10)
    {
        health.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    }
}

Console.WriteLine($"## Accuracy: {acc.Name}, time scale 1, /v1/completions streamed, output 128 (ignore_eos), 20 bursts at concurrency 1 and 6 at 16, after 3 warm-up bursts");
Console.WriteLine();
Console.WriteLine($"HTTP round trip of `GET /acc/health` on this machine (mean of 40): {health.Average():F2} ms. It is part of every measured TTFT and not of the prediction.");
Console.WriteLine();
Console.WriteLine("| concurrency | input tokens | requests | mean TTFT measured ms | predicted ms | error | mean TPOT measured ms | predicted ms | error |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var (c, input) in new[] { (1, 512), (1, 2048), (16, 512) })
{
    for (var w = 0; w < 3; w++)
    {
        await BurstAsync("acc", c, input, 128); // warm-up: opens c connections, JIT-compiles the client
    }

    var results = new List<Result>();
    for (var r = 0; r < (c == 1 ? 20 : 6); r++)
    {
        results.AddRange(await BurstAsync("acc", c, input, 128));
    }

    var prompt = results[0].PromptTokens;
    var p = LatencyModel.PredictBurst(acc, c, prompt, 128, WakeDelayMs)!.Value;
    var ttft = results.Average(x => x.TtftMs);
    var tpot = results.Average(x => x.TpotMs);
    Console.WriteLine($"| {c} | {prompt} | {results.Count} | {ttft:F1} | {p.MeanTtftMs:F1} | {Err(ttft, p.MeanTtftMs)} | {tpot:F2} | {p.MeanTpotMs:F2} | {Err(tpot, p.MeanTpotMs)} |");
}

// 2. Sweep: rising concurrency, input = output = 512, like LLM-Inference-Bench's runs; time scale 10, figures in simulated time.
var sweep = EmulatorProfiles.TryGet("llama-2-7b@a100x1", out var sweepProfile) ? sweepProfile : throw new InvalidOperationException();
const double SweepScale = 10;
const int SweepLength = 512;
var measured = ReadMeasured(Path.Combine(data, "LLM-Inference-Bench", "Plots", "All_results.csv"), "meta-llama/Llama-2-7b-hf", "Nvidia A100 GPU", 1, SweepLength);
Console.WriteLine();
Console.WriteLine($"## Sweep: {sweep.Name}, time scale {SweepScale} (figures converted to simulated time), input = output = {SweepLength}, one burst per level after a short warm-up burst");
Console.WriteLine();
Console.WriteLine("| concurrency | mean TTFT s | mean TPOT ms | batch latency s | throughput tok/s | simulated (virtual time) throughput | LLM-Inference-Bench measured throughput |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
for (var c = 1; c <= 256; c *= 2)
{
    await BurstAsync("sweep", c, 16, 16); // warm-up: opens c connections
    var watch = Stopwatch.StartNew();
    var results = await BurstAsync("sweep", c, SweepLength, SweepLength);
    var latencyS = watch.Elapsed.TotalSeconds * SweepScale;
    var prompt = results[0].PromptTokens;
    var sim = LatencyModel.SimulateBurst(sweep, c, prompt, SweepLength, WakeDelayMs);
    var throughput = c * (prompt + SweepLength) / latencyS;
    var simThroughput = c * (prompt + SweepLength) / (sim.BatchLatencyMs / 1000);
    var real = measured.TryGetValue(c, out var m) ? $"{m:F0}" : "–";
    Console.WriteLine($"| {c} | {results.Average(x => x.TtftMs) * SweepScale / 1000:F2} | {results.Average(x => x.TpotMs) * SweepScale:F2} | {latencyS:F1} | {throughput:F0} | {simThroughput:F0} | {real} |");
}

// 3. Load: 256 concurrent streams at time scale 1; token counts, failures and the emulator's own CPU use.
Console.WriteLine();
Console.WriteLine("## Load: 256 concurrent streams, llama-3-8b@h100x1, time scale 1, /v1/chat/completions, output 256 (ignore_eos)");
Console.WriteLine();
emulator.Refresh();
var cpuBefore = emulator.TotalProcessorTime;
var wall = Stopwatch.StartNew();
var load = await BurstAsync("load", 256, 128, 256, chat: true, tolerateFailures: true);
var wallS = wall.Elapsed.TotalSeconds;
emulator.Refresh();
var cpuS = (emulator.TotalProcessorTime - cpuBefore).TotalSeconds;
var ok = load.Count(r => r.Done && r.Tokens == 256 && r.CompletionTokens == 256);
Console.WriteLine("| streams | complete with 256 tokens, usage 256 and [DONE] | failed | wall s | emulator CPU s | emulator CPU / wall | cores | mean TTFT ms | mean TPOT ms |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
Console.WriteLine($"| {load.Count} | {ok} | {load.Count(r => r.Failure is not null)} | {wallS:F2} | {cpuS:F2} | {cpuS / wallS:P0} | {Environment.ProcessorCount} | {load.Where(r => r.Done).Average(r => r.TtftMs):F0} | {load.Where(r => r.Done).Average(r => r.TpotMs):F2} |");
var loadSim = LatencyModel.SimulateBurst(EmulatorProfiles.All.First(p => p.Name == "llama-3-8b@h100x1"), 256, load[0].PromptTokens, 256, WakeDelayMs);
Console.WriteLine();
Console.WriteLine($"Scheduler in virtual time for this burst: mean TTFT {loadSim.MeanTtftMs:F0} ms, mean TPOT {loadSim.MeanTpotMs:F2} ms, batch {loadSim.BatchLatencyMs / 1000:F2} s.");
return ok == 256 ? 0 : 1;

async Task<List<Result>> BurstAsync(string backend, int concurrency, int inputTokens, int outputTokens, bool chat = false, bool tolerateFailures = false)
{
    var tasks = Enumerable.Range(0, concurrency).Select(_ => Task.Run(() => StreamOneAsync(backend, inputTokens, outputTokens, chat))).ToArray();
    var results = (await Task.WhenAll(tasks)).ToList();
    if (!tolerateFailures && results.FirstOrDefault(r => r.Failure is not null || !r.Done || r.Tokens != outputTokens) is { } bad)
    {
        throw new InvalidOperationException($"bad stream on {backend}: {bad}");
    }

    return results;
}

async Task<Result> StreamOneAsync(string backend, int inputTokens, int outputTokens, bool chat)
{
    // " the" is one o200k token and the pre-tokenizer splits at spaces, so n repetitions are n prompt tokens.
    var prompt = string.Concat(Enumerable.Repeat(" the", inputTokens));
    object body = chat
        ? new { model = "bench", messages = new[] { new { role = "user", content = prompt } }, max_tokens = outputTokens, ignore_eos = true, stream = true, stream_options = new { include_usage = true } }
        : new { model = "bench", prompt, max_tokens = outputTokens, ignore_eos = true, stream = true, stream_options = new { include_usage = true } };
    var start = Stopwatch.GetTimestamp();
    try
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{url}/{backend}/v1/{(chat ? "chat/completions" : "completions")}") { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        long first = 0, last = 0;
        int tokens = 0, promptTokens = 0, completionTokens = 0;
        var done = false;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            if (line == "data: [DONE]")
            {
                done = true;
                break;
            }

            using var chunk = JsonDocument.Parse(line.AsMemory(6));
            var root = chunk.RootElement;
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                promptTokens = usage.GetProperty("prompt_tokens").GetInt32();
                completionTokens = usage.GetProperty("completion_tokens").GetInt32();
            }

            var choices = root.GetProperty("choices");
            if (choices.GetArrayLength() == 0)
            {
                continue;
            }

            var text = chat
                ? choices[0].GetProperty("delta").TryGetProperty("content", out var content) ? content.GetString() : null
                : choices[0].GetProperty("text").GetString();
            if (!string.IsNullOrEmpty(text))
            {
                tokens++;
                last = Stopwatch.GetTimestamp();
                if (first == 0)
                {
                    first = last;
                }
            }
        }

        var ttft = Stopwatch.GetElapsedTime(start, first).TotalMilliseconds;
        var tpot = tokens > 1 ? Stopwatch.GetElapsedTime(first, last).TotalMilliseconds / (tokens - 1) : 0;
        return new Result(ttft, tpot, tokens, promptTokens, completionTokens, done, null);
    }
    catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
    {
        return new Result(0, 0, 0, 0, 0, false, e.Message);
    }
}

static string Err(double measured, double predicted) => ((measured - predicted) / predicted).ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture);

static Dictionary<int, double> ReadMeasured(string path, string model, string hardware, int count, int length)
{
    if (!File.Exists(path))
    {
        Console.WriteLine($"(measured rows not shown: {path} is absent)");
        return [];
    }

    // Mean over duplicate rows; Throughput = batch·(in+out)/Latency as in the file.
    return File.ReadLines(path).Skip(1).Select(l => l.Split(','))
        .Where(c => c.Length >= 8 && c[0] == hardware && c[1] == count.ToString(CultureInfo.InvariantCulture) && c[2] == "vLLM" && c[3] == model && c[4] == length.ToString(CultureInfo.InvariantCulture))
        .GroupBy(c => int.Parse(c[5], CultureInfo.InvariantCulture))
        .ToDictionary(g => g.Key, g => g.Average(c => double.Parse(c[7], CultureInfo.InvariantCulture)));
}

internal sealed record Result(double TtftMs, double TpotMs, int Tokens, int PromptTokens, int CompletionTokens, bool Done, string? Failure);
