import type { ReactNode } from 'react'

export const metadata = { title: 'TinyKV + Next.js' }

// No next/font or remote assets: the app builds and runs with no network.
export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', margin: '2rem' }}>{children}</body>
    </html>
  )
}
