using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flare.Data.History;
using Flare.Web.History;

namespace Flare.Tests.Web.History;

/// <summary>What the history host tests share: JSON options, polling, and small history files.</summary>
internal static class HistoryTestSupport
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not reached within {timeout.TotalSeconds:0} s: {describe()}");
            await Task.Delay(25);
        }
    }

    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, describe);

    /// <summary>Polls <c>GET /api/history/datasets/{id}</c> until the import is no longer running.</summary>
    public static async Task<HistoryDatasetDetail> WaitForImportAsync(HttpClient client, int id, TimeSpan? timeout = null)
    {
        HistoryDatasetDetail? detail = null;
        await WaitUntilAsync(async () =>
        {
            detail = await client.GetFromJsonAsync<HistoryDatasetDetail>($"api/history/datasets/{id}", Json);
            return detail!.Dataset.Status != HistoryImportStatus.Running;
        }, timeout ?? TimeSpan.FromSeconds(60), () => $"dataset {id} is {detail?.Dataset.Status} ({detail?.Dataset.RowsRead} rows read)");
        return detail!;
    }

    /// <summary>Waits until the live estimator has been rebuilt past <paramref name="revision"/>.</summary>
    public static Task WaitForRebuildAsync(HistoryIndexService index, int revision) =>
        WaitUntilAsync(() => index.Revision > revision, TimeSpan.FromSeconds(60), () => $"estimator still at revision {index.Revision}");

    /// <summary>Generic JSONL: each prompt with the given scores.</summary>
    public static byte[] Jsonl(params (string Prompt, (string Model, double Score)[] Scores)[] rows) =>
        Encoding.UTF8.GetBytes(string.Join('\n', rows.Select(r => JsonSerializer.Serialize(new
        {
            prompt = r.Prompt,
            scores = r.Scores.ToDictionary(s => s.Model, s => s.Score),
        }))));

    public static async Task<HttpResponseMessage> UploadRawAsync(HttpClient client, byte[] body, string query, string contentType = "application/octet-stream")
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        return await client.PostAsync($"api/history/datasets?{query}", content);
    }
}
