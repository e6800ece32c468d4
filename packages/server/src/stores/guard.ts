import { StorageUnavailableError, type Store } from '@gatehouse/core'

/**
 * Wraps a store so that the driver's "cannot reach or use the database" errors become
 * StorageUnavailableError, which every endpoint answers as 503 in its own format, rather
 * than a 500.
 */
export function guardStore(store: Store, unavailable: (error: unknown) => boolean): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        try {
          return await value.apply(target, args)
        } catch (error) {
          if (unavailable(error))
            throw new StorageUnavailableError('the database is unavailable', { cause: error })
          throw error
        }
      }
    },
  })
}
