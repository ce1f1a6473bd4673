using Flare.Data.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Flare.Data.Security;

/// <summary>Encrypts and decrypts secrets kept in the database (the host implements it with ASP.NET Core Data Protection).</summary>
public interface ISecretProtector
{
    string Protect(string plaintext);

    string Unprotect(string protectedValue);
}

/// <summary>
/// Keeps backend API keys encrypted at rest without any store knowing: a deployment's <c>ApiKey</c> is
/// encrypted as it is saved and decrypted as it is read, so the database file (and its backups) never
/// holds a key in clear. Encrypted values carry a prefix, so a key written before encryption was turned on
/// is still read (and encrypted when the row is next saved).
/// </summary>
public sealed class SecretsInterceptor(ISecretProtector protector) : ISaveChangesInterceptor, IMaterializationInterceptor
{
    public const string Prefix = "dp1:";

    public object InitializedInstance(MaterializationInterceptionData materializationData, object instance)
    {
        if (instance is DeploymentEntity { ApiKey: { } stored } deployment && stored.StartsWith(Prefix, StringComparison.Ordinal))
        {
            deployment.ApiKey = protector.Unprotect(stored[Prefix.Length..]);
        }

        return instance;
    }

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Encrypt(eventData.Context);
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken ct = default)
    {
        Encrypt(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Decrypt(eventData.Context);
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken ct = default)
    {
        Decrypt(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public void SaveChangesFailed(DbContextErrorEventData eventData) => Decrypt(eventData.Context);

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken ct = default)
    {
        Decrypt(eventData.Context);
        return Task.CompletedTask;
    }

    private void Encrypt(DbContext? db)
    {
        foreach (var entry in db?.ChangeTracker.Entries<DeploymentEntity>() ?? [])
        {
            if (entry.State is EntityState.Added or EntityState.Modified
                && entry.Entity.ApiKey is { } key && !key.StartsWith(Prefix, StringComparison.Ordinal))
            {
                entry.Entity.ApiKey = Prefix + protector.Protect(key);
            }
        }
    }

    /// <summary>After a save (or a failed one) the tracked entities hold the clear key again, as callers expect.</summary>
    private void Decrypt(DbContext? db)
    {
        foreach (var entry in db?.ChangeTracker.Entries<DeploymentEntity>() ?? [])
        {
            if (entry.Entity.ApiKey is { } stored && stored.StartsWith(Prefix, StringComparison.Ordinal))
            {
                entry.Entity.ApiKey = protector.Unprotect(stored[Prefix.Length..]);
                entry.Property(d => d.ApiKey).IsModified = false;
            }
        }
    }
}
