using Flare.Data;
using Flare.Tests.Support;
using Flare.Web.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Flare.Tests.Web.Security;

public sealed class AdminAccountsTests
{
    [Fact]
    public async Task CreateFirst_ManyAtOnce_ExactlyOneAdministratorIsCreated()
    {
        await using var db = await TestDatabase.CreateAsync();
        var factory = db.Services.GetRequiredService<IDbContextFactory<FlareDbContext>>();

        // Setup pages open in several browsers (or on several hosts) at once, each with its own name: one wins, the rest
        // are told an administrator exists.
        var created = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            new AdminAccounts(factory, Options.Create(new AdminOptions()), TimeProvider.System).CreateFirstAsync($"admin{i}", "a-long-enough-password"))));

        Assert.Single(created, c => c);
        await using var ctx = await db.CreateContextAsync();
        Assert.Equal(1, await ctx.AdminUsers.CountAsync(TestContext.Current.CancellationToken));
    }
}
