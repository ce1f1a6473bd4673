using System.Net.Http.Headers;
using System.Text.Json;
using Flare.Data;
using Flare.Data.Registry;
using Flare.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flare.Tests.Web.Security;

/// <summary>Issue 9, acceptance 2: the hostile-input corpus gets only clear 4xx answers, no errors in the log, and changes nothing.</summary>
[Collection(nameof(HostCollection))]
public sealed class HostileInputTests
{
    private const string ClientKey = "sk-flare-hostile-test-0123456789abcdef";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Corpus_EveryCaseGetsAClear4xx_NoErrorLogged_DatabaseUnchanged()
    {
        using var dir = new TempDirectory();
        var errors = new ErrorLog();
        await using var server = new FlareServer(dir.Path, demo: false, $"--Flare:BootstrapApiKey={ClientKey}")
        {
            ConfigureServices = s => s.AddSingleton<ILoggerProvider>(errors),
        };
        await server.StartAsync(Ct);
        var store = server.Services.GetRequiredService<RegistryStore>();
        var (_, model, deployment) = await Samples.FleetAsync(store);

        using var client = server.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(60);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ClientKey);
        var before = await CountRowsAsync(server);

        var corpus = HostileInputCorpus.Build(model.Name, deployment.Id);
        var failures = new List<string>();
        foreach (var c in corpus)
        {
            using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path) { Content = new ByteArrayContent(c.Body) };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(c.ContentType);
            using var response = await client.SendAsync(request, Ct);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(Ct);
            var why = status is < 400 or >= 500 ? $"status {status}"
                : c.Path.StartsWith("/v1", StringComparison.Ordinal) ? OpenAIErrorProblem(text)
                : ProblemDetailsProblem(response, text);
            if (why is not null)
            {
                failures.Add($"{c} → {why}: {Truncate(text)}");
            }
        }

        var after = await CountRowsAsync(server);
        var summary = new System.Text.StringBuilder()
            .AppendLine($"Hostile-input corpus: {corpus.Count} cases, {corpus.Count - failures.Count} answered with a clear 4xx, {errors.Entries.Count} error log entries, database unchanged: {before.SequenceEqual(after)}.");
        foreach (var family in corpus.GroupBy(c => c.Family.Split(" · ")[0]))
        {
            summary.AppendLine($"  {family.Key}: {family.Count()}");
        }

        // In the test's output, and as a file beside the screenshots, since a passing test's output is not printed.
        TestContext.Current.TestOutputHelper?.Write(summary.ToString());
        await File.WriteAllTextAsync(Path.Combine(Artifacts.Folder(), "hostile-input.txt"), summary.ToString(), Ct);

        Assert.True(corpus.Count >= 200, $"only {corpus.Count} cases");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Concat(errors.Entries)));
        Assert.True(errors.Entries.IsEmpty, string.Join("\n", errors.Entries));
        Assert.Equal(before, after);
    }

    /// <summary>Rows per table, except the request log (which records refused requests by design).</summary>
    private static async Task<Dictionary<string, long>> CountRowsAsync(FlareServer server)
    {
        await using var db = await server.Services.GetRequiredService<IDbContextFactory<FlareDbContext>>().CreateDbContextAsync(Ct);
        var tables = db.Model.GetEntityTypes().Select(e => e.GetTableName()!).Where(t => t != "RequestLog").Distinct().Order().ToList();
        var counts = new Dictionary<string, long>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync(Ct);
        foreach (var table in tables)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT count(*) FROM \"{table}\"";
            counts[table] = (long)(await command.ExecuteScalarAsync(Ct))!;
        }

        return counts;
    }

    private static string? OpenAIErrorProblem(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.TryGetProperty("error", out var e) && e.TryGetProperty("message", out var m) && m.GetString() is { Length: > 0 }
                && e.TryGetProperty("type", out _) ? null : "not an OpenAI error object";
        }
        catch (JsonException)
        {
            return "not JSON";
        }
    }

    private static string? ProblemDetailsProblem(HttpResponseMessage response, string text)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"content type {response.Content.Headers.ContentType}";
        }

        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.TryGetProperty("title", out var t) && t.GetString() is { Length: > 0 } ? null : "problem details without a title";
    }

    private static string Truncate(string s) => s.Length <= 300 ? s : s[..300] + "…";
}
