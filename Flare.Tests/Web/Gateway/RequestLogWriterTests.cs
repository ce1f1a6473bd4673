using Flare.Data;
using Flare.Data.Gateway;
using Flare.Tests.Support;
using Flare.Web.Gateway;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flare.Tests.Web.Gateway;

public sealed class RequestLogWriterTests
{
    [Fact]
    public async Task Batches_RoundTripEveryColumnAsEfReadsIt()
    {
        await using var db = await TestDatabase.CreateAsync();
        var factory = db.Services.GetRequiredService<IDbContextFactory<FlareDbContext>>();
        var writer = new RequestLogWriter(factory, Options.Create(new GatewayOptions()), NullLogger<RequestLogWriter>.Instance);
        var full = new RequestLogEntity
        {
            RequestId = "req_full", TimestampUtc = new DateTime(2026, 11, 22, 17, 1, 2, 345, DateTimeKind.Utc), ApiKeyId = 3,
            Endpoint = "chat.completions", RequestedModel = "flare", DeploymentId = 7, DeploymentName = "llama@a100", Policy = "least-outstanding",
            Stream = true, Status = 200, ErrorType = null, InputTokens = 12, OutputTokens = 34, CostUsd = 0.000123, TtftMs = 45.5, E2eMs = 678.25,
            OverheadMs = 0.125, Attempts = 2,
        };
        var refused = new RequestLogEntity { RequestId = "req_refused", TimestampUtc = full.TimestampUtc, Endpoint = "completions", Status = 401, ErrorType = "authentication_error" };

        await writer.StartAsync(TestContext.Current.CancellationToken);
        writer.Enqueue(full);
        writer.Enqueue(refused);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (writer.Written < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "The batch was not written within 10 s.");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        await writer.StopAsync(TestContext.Current.CancellationToken);
        await using var ctx = await db.CreateContextAsync();
        var rows = await ctx.RequestLog.AsNoTracking().OrderBy(r => r.Id).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, rows.Count);
        full.Id = rows[0].Id;
        refused.Id = rows[1].Id;
        Assert.Equivalent(full, rows[0], strict: true);
        Assert.Equal(full.TimestampUtc, rows[0].TimestampUtc);
        Assert.Equivalent(refused, rows[1], strict: true);
        Assert.Null(rows[1].DeploymentId);
        Assert.Equal(0, writer.Dropped);
    }
}
