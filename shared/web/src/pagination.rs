//! Reading all of a list's items page by page (a fulfiller's from a `byFulfiller` index, say),
//! with a bound.

use dropship_aws::repo::Page;
use std::future::Future;

/// How many pages of 200 a page reads at most when it needs all of a list (a fulfiller's
/// active delivery orders or waiting returns: the byFulfiller index holds every one).
pub const MAX_PAGES: usize = 250;
/// Items per page read.
pub const PAGE_SIZE: i32 = 200;

/// Every item `read_page` gives, following its next tokens for at most `MAX_PAGES` pages,
/// oldest first; whether more were left unread (the caller says so in the log).
pub async fn read_all<T, F, Fut>(mut read_page: F) -> anyhow::Result<(Vec<T>, bool)>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = anyhow::Result<Option<Page<T>>>>,
{
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let Some(page) = read_page(next.clone()).await? else {
            break;
        };
        out.extend(page.items);
        next = page.next_token;
        if next.is_none() {
            break;
        }
    }
    Ok((out, next.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake index of `pages` pages of one item each; page `i`'s next token is `i + 1`.
    async fn fake(pages: usize, next: Option<String>) -> anyhow::Result<Option<Page<usize>>> {
        let i: usize = match next {
            None => 0,
            Some(t) => t.parse()?,
        };
        Ok(Some(Page {
            items: vec![i],
            next_token: (i + 1 < pages).then(|| (i + 1).to_string()),
        }))
    }

    #[tokio::test]
    async fn follows_the_next_tokens_to_the_last_page() -> anyhow::Result<()> {
        let (items, more) = read_all(|next| fake(3, next)).await?;
        assert_eq!(items, vec![0, 1, 2]);
        assert!(!more);
        Ok(())
    }

    #[tokio::test]
    async fn stops_after_the_bound_and_says_more_are_left() -> anyhow::Result<()> {
        let (items, more) = read_all(|next| fake(MAX_PAGES + 5, next)).await?;
        assert_eq!(items.len(), MAX_PAGES);
        assert!(more);
        Ok(())
    }

    #[tokio::test]
    async fn an_unknown_fulfiller_reads_nothing() -> anyhow::Result<()> {
        let (items, more) = read_all(|_| async { Ok(None::<Page<usize>>) }).await?;
        assert!(items.is_empty() && !more);
        Ok(())
    }
}
