using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

// SoakBench --flare URL --pid PID --key KEY --admin-token TOKEN [--minutes 30] [--rate 200] [--fault-rate 0.01]
// Sets every emulated deployment of the demo fleet to inject faults (errors before the first byte, cut streams),
// then sends /v1 requests at a fixed rate (open loop: request i leaves at start + i/rate whatever happened before)
// and classifies every answer: a success of the right shape, a well-formed OpenAI error (JSON or SSE error event),
// or anything else (a malformed answer, a silent truncation, a transport failure) — the last must stay at zero.
var options = Args(args);
var flare = options["flare"].TrimEnd('/');
var pid = int.Parse(options["pid"], CultureInfo.InvariantCulture);
var minutes = double.Parse(options.GetValueOrDefault("minutes", "30"), CultureInfo.InvariantCulture);
var rate = double.Parse(options.GetValueOrDefault("rate", "200"), CultureInfo.InvariantCulture);
var faultRate = double.Parse(options.GetValueOrDefault("fault-rate", "0.01"), CultureInfo.InvariantCulture);

using var admin = new HttpClient { BaseAddress = new Uri(flare + "/") };
admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options["admin-token"]);
var models = await InjectFaultsAsync(admin, faultRate);

using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
{
    BaseAddress = new Uri(flare + "/"),
    Timeout = TimeSpan.FromSeconds(60),
};
client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options["key"]);

var counts = new Dictionary<string, long>();
var odd = new List<string>();
void Count(string outcome, string? detail = null)
{
    lock (counts)
    {
        counts[outcome] = counts.GetValueOrDefault(outcome) + 1;
        if (detail is not null && odd.Count < 20)
        {
            odd.Add(detail);
        }
    }
}

Console.WriteLine($"# Soak: {minutes} min at {rate} req/s through {flare}, fault rate {faultRate:P1} per fault kind on every emulated deployment, models: {string.Join(", ", models)}");
Console.WriteLine();
Console.WriteLine("| minute | sent | ok | OpenAI errors (status or SSE event) | anything else | Flare VmRSS MiB | RssAnon MiB | threads |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
var started = Stopwatch.GetTimestamp();
var total = (long)(minutes * 60 * rate);
var inflight = new List<Task>();
var random = new Random(42);
var nextReport = 1;
var sent = 0L;
for (long i = 0; i < total; i++)
{
    var due = started + (long)(i / rate * Stopwatch.Frequency);
    while (Stopwatch.GetTimestamp() < due)
    {
        var wait = (due - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
        if (wait > 1)
        {
            await Task.Delay((int)Math.Min(wait, 50));
        }
        else
        {
            Thread.SpinWait(20);
        }
    }

    var model = models[random.Next(models.Count)];
    var stream = random.NextDouble() < 0.5;
    var chat = random.NextDouble() < 0.7;
    var maxTokens = random.Next(8, 65);
    inflight.Add(SendAsync(model, stream, chat, maxTokens));
    sent++;
    if (inflight.Count > 4096)
    {
        inflight.RemoveAll(t => t.IsCompleted);
    }

    var elapsedMinutes = Stopwatch.GetElapsedTime(started).TotalMinutes;
    if (elapsedMinutes >= nextReport)
    {
        Report(nextReport);
        nextReport++;
    }
}

await Task.WhenAll(inflight);
Report((int)Math.Round(Stopwatch.GetElapsedTime(started).TotalMinutes));
Console.WriteLine();
Console.WriteLine($"Totals: {string.Join(", ", counts.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value:N0}"))}.");
if (odd.Count > 0)
{
    Console.WriteLine("Examples of anything else:");
    odd.ForEach(o => Console.WriteLine("  " + o));
}

return counts.GetValueOrDefault("else") == 0 ? 0 : 1;

void Report(int minute)
{
    var (rss, anon, threads) = Memory(pid);
    lock (counts)
    {
        Console.WriteLine($"| {minute} | {sent:N0} | {counts.GetValueOrDefault("ok"):N0} | {counts.GetValueOrDefault("error"):N0} | {counts.GetValueOrDefault("else"):N0} | {rss:F1} | {anon:F1} | {threads} |");
    }
}

async Task SendAsync(string model, bool stream, bool chat, int maxTokens)
{
    JsonObject body = chat
        ? new() { ["model"] = model, ["stream"] = stream, ["max_tokens"] = maxTokens, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Write about soak tests." }) }
        : new() { ["model"] = model, ["stream"] = stream, ["max_tokens"] = maxTokens, ["prompt"] = "Write about soak tests." };
    try
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, chat ? "v1/chat/completions" : "v1/completions") { Content = JsonContent.Create(body) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();
        var verdict = Classify((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, text, stream);
        Count(verdict.Outcome, verdict.Outcome == "else" ? $"{(int)response.StatusCode} stream={stream}: {verdict.Why}: {Trim(text)}" : null);
    }
    catch (Exception e)
    {
        Count("else", $"transport: {e.GetType().Name}: {e.Message}");
    }
}

static (string Outcome, string? Why) Classify(int status, string? mediaType, string text, bool stream)
{
    if (status != 200)
    {
        return IsOpenAIError(text) ? ("error", null) : ("else", "non-200 without an OpenAI error body");
    }

    if (!stream)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0 ? ("ok", null) : ("else", "200 without choices");
        }
        catch (JsonException)
        {
            return ("else", "200 with a body that is not JSON");
        }
    }

    if (mediaType != "text/event-stream")
    {
        return ("else", $"stream answered as {mediaType}");
    }

    var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()).Where(e => e.StartsWith("data: ", StringComparison.Ordinal)).Select(e => e[6..]).ToList();
    if (events.Count > 0 && events[^1] == "[DONE]")
    {
        return events.Take(events.Count - 1).All(IsJson) ? ("ok", null) : ("else", "stream with an event that is not JSON");
    }

    // A stream that fails after it began must end with an error event in OpenAI's shape, never just stop.
    return events.Count > 0 && IsOpenAIError(events[^1]) ? ("error", null) : ("else", "stream ended without [DONE] or an error event");
}

static bool IsJson(string s)
{
    try
    {
        using var _ = JsonDocument.Parse(s);
        return true;
    }
    catch (JsonException)
    {
        return false;
    }
}

static bool IsOpenAIError(string text)
{
    try
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.TryGetProperty("error", out var e) && e.TryGetProperty("message", out var m) && m.GetString() is { Length: > 0 };
    }
    catch (JsonException)
    {
        return false;
    }
}

static string Trim(string s) => s.Length <= 200 ? s : s[..200] + "…";

static (double RssMiB, double AnonMiB, int Threads) Memory(int pid)
{
    double rss = 0, anon = 0;
    var threads = 0;
    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
    {
        var value = line.Split(':', 2).ElementAtOrDefault(1)?.Trim().Split(' ')[0];
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = double.Parse(value!, CultureInfo.InvariantCulture) / 1024;
        else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = double.Parse(value!, CultureInfo.InvariantCulture) / 1024;
        else if (line.StartsWith("Threads:", StringComparison.Ordinal)) threads = int.Parse(value!, CultureInfo.InvariantCulture);
    }

    return (rss, anon, threads);
}

// Every emulated deployment: `faultRate` of requests answered 503 before the first byte, `faultRate` of streams cut after
// a few tokens, `faultRate` delayed by a 2 s spike. Returns the models that have such deployments.
static async Task<List<string>> InjectFaultsAsync(HttpClient admin, double faultRate)
{
    var deployments = await admin.GetFromJsonAsync<JsonArray>("api/deployments") ?? [];
    var models = new HashSet<string>();
    foreach (var d in deployments.OfType<JsonObject>().Where(d => (string?)d["kind"] == "Emulated" && (bool?)d["enabled"] == true))
    {
        var input = new JsonObject
        {
            ["name"] = (string?)d["name"], ["modelId"] = (int?)d["modelId"], ["kind"] = "Emulated", ["baseUrl"] = (string?)d["baseUrl"],
            ["servedModelName"] = (string?)d["servedModelName"], ["gpuTypeId"] = (int?)d["gpuTypeId"], ["gpuCount"] = (int?)d["gpuCount"],
            ["tensorParallel"] = (int?)d["tensorParallel"], ["maxConcurrency"] = (int?)d["maxConcurrency"], ["enabled"] = true,
            ["emulator"] = new JsonObject
            {
                ["profile"] = d["emulator"]?["profile"]?.DeepClone(), ["errorRate"] = faultRate, ["errorStatusCode"] = 503,
                ["spikeProbability"] = faultRate, ["spikeMs"] = 2000, ["firstTokenStallMs"] = 0,
                ["disconnectProbability"] = faultRate, ["disconnectAfterTokens"] = 3,
            },
        };
        var response = await admin.PutAsJsonAsync($"api/deployments/{(int)d["id"]!}", input);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PUT /api/deployments/{d["id"]}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        models.Add((string)d["modelName"]!);
    }

    if (models.Count == 0)
    {
        throw new InvalidOperationException("No emulated deployments: start Flare with the demo fleet.");
    }

    await Task.Delay(2000); // the routing snapshot and the emulator pick the settings up
    return models.Order(StringComparer.Ordinal).ToList();
}

static Dictionary<string, string> Args(string[] args)
{
    var d = new Dictionary<string, string>();
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        d[args[i].TrimStart('-')] = args[i + 1];
    }

    foreach (var required in new[] { "flare", "pid", "key", "admin-token" })
    {
        if (!d.ContainsKey(required))
        {
            Console.Error.WriteLine("usage: SoakBench --flare URL --pid PID --key KEY --admin-token TOKEN [--minutes 30] [--rate 200] [--fault-rate 0.01]");
            Environment.Exit(2);
        }
    }

    return d;
}
